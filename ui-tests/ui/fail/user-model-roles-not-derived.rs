#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
}

#[warden::user_model]
pub struct Member {
    #[user(roles)]
    pub roles: Vec<Role>,
}

fn main() {}
