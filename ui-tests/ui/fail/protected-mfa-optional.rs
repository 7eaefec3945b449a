use warden::{User, protected};

#[protected(optional, mfa)]
async fn greet(user: Option<User>) -> String {
    user.map(|user| user.email).unwrap_or_default()
}

fn main() {}
