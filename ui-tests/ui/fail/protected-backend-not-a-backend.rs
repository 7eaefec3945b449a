use warden::{User, protected};

pub struct NotABackend;

#[protected(active, backend = NotABackend)]
async fn me(user: User) -> String {
    user.email
}

fn main() {}
