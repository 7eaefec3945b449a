use warden::{User, protected};

#[protected(active, 2fa)]
async fn export(user: User) -> String {
    user.email
}

fn main() {}
