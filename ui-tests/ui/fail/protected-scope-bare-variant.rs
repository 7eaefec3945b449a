use warden::{User, protected};

#[protected(active, scope = ReportsRead)]
async fn reports(user: User) -> String {
    user.email
}

fn main() {}
