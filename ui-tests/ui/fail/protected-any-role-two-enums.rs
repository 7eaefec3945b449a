use warden::{User, protected};

#[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
enum Role {
    Editor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
enum Staff {
    Support,
}

#[protected(active, any_role(Role::Editor, Staff::Support))]
async fn edit(user: User) -> String {
    user.email
}

fn main() {}
