use warden::{User, protected};

#[protected(active, fresh = 0)]
async fn change_password(user: User) -> String {
    user.email
}

fn main() {}
