#[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
pub enum Role {
    Admin,
}

#[warden::user_model]
pub struct Member {
    #[user(roles)]
    pub roles: Vec<Role>,
    #[user(roles)]
    pub more_roles: Vec<Role>,
}

fn main() {}
