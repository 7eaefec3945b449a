use warden::{User, protected};

#[protected(active, two_factor)]
async fn export(user: User) -> String {
    user.email
}

fn main() {}
