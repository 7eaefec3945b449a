use warden::{User, protected};

#[protected(active, backend = Jtw)]
async fn me(user: User) -> String {
    user.email
}

fn main() {}
