use warden::{User, protected};

#[protected(active, mfaa)]
async fn export(user: User) -> String {
    user.email
}

fn main() {}
