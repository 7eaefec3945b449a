use warden::{User, protected};

#[protected(activ)]
async fn me(user: User) -> String {
    user.email
}

fn main() {}
