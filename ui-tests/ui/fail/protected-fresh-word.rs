use warden::{User, protected};

#[protected(active, fresh)]
async fn change_password(user: User) -> String {
    user.email
}

fn main() {}
