use warden::{User, protected};

pub struct Api;

impl Api {
    #[protected(active)]
    pub async fn me(&self, user: User) -> String {
        user.email
    }
}

fn main() {}
