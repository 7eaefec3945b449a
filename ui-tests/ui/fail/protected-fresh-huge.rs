use warden::{User, protected};

#[protected(active, fresh = 5000000000)]
async fn change_password(user: User) -> String {
    user.email
}

fn main() {}
