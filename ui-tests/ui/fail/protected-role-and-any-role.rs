use warden::{User, protected};

#[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
enum Role {
    Admin,
    Editor,
}

#[protected(active, role = Role::Editor, any_role(Role::Admin, Role::Editor))]
async fn edit(user: User) -> String {
    user.email
}

fn main() {}
