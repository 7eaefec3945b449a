use warden::{User, protected};

#[protected(active, role = "editor")]
async fn edit(user: User) -> String {
    user.email
}

fn main() {}
