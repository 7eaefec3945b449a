use warden::{User, protected};

#[protected(active)]
async fn me(user: User, again: User) -> String {
    format!("{} {}", user.email, again.email)
}

fn main() {}
