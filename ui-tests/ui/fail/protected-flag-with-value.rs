use warden::{User, protected};

#[protected(active = true)]
async fn me(user: User) -> String {
    user.email
}

fn main() {}
