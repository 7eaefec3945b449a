use warden::{User, protected};

#[protected(active, mfa = "totp")]
async fn export(user: User) -> String {
    user.email
}

fn main() {}
