use warden::{User, protected};

#[protected(optional)]
async fn greet(user: User) -> String {
    user.email
}

fn main() {}
