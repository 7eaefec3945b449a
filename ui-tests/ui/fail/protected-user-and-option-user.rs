use warden::{User, protected};

#[protected(optional)]
async fn me(maybe: Option<User>, user: User) -> String {
    format!("{} {}", maybe.is_some(), user.email)
}

fn main() {}
