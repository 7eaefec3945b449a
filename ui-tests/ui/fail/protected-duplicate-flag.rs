use warden::{User, protected};

#[protected(active, active)]
async fn me(user: User) -> String {
    user.email
}

fn main() {}
