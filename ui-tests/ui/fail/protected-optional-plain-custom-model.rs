use warden::{protected, user_model};

#[user_model]
pub struct Member {}

#[protected(optional)]
async fn greet(user: Member) -> String {
    user.email
}

fn main() {}
