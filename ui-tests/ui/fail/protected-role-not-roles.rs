use warden::{User, protected};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Editor,
}

#[protected(active, role = Role::Editor)]
async fn edit(user: User) -> String {
    user.email
}

fn main() {}
