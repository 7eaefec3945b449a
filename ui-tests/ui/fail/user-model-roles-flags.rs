#[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
pub enum Role {
    Admin,
}

#[warden::user_model]
pub struct Member {
    #[user(roles, create, update)]
    pub roles: Vec<Role>,
}

fn main() {}
