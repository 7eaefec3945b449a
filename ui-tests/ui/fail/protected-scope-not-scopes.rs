use warden::{User, protected};

enum Plan {
    Free,
}

#[protected(active, scope = Plan::Free)]
async fn reports(user: User) -> String {
    user.email
}

fn main() {}
