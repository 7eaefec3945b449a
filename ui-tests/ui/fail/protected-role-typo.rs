use warden::{User, protected};

#[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
enum Role {
    Editor,
}

#[protected(active, role = Role::Editr)]
async fn edit(user: User) -> String {
    user.email
}

fn main() {}
