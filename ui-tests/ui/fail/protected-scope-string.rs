use warden::{User, protected};

#[protected(active, scope = "reports:read")]
async fn reports(user: User) -> String {
    user.email
}

fn main() {}
