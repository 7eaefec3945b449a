use warden::{User, protected};

#[protected(active, any_role())]
async fn edit(user: User) -> String {
    user.email
}

fn main() {}
