use warden::{User, protected};

#[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
enum Role {
    Editor,
}
use Role::Editor;

#[protected(active, role = Editor)]
async fn edit(user: User) -> String {
    user.email
}

fn main() {}
