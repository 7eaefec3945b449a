use warden::{User, protected};

#[protected(active)]
fn me(user: User) -> String {
    user.email
}

fn main() {}
