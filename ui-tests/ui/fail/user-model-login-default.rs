#[warden::user_model(login = username)]
pub struct Player {
    #[user(default = "anonymous")]
    pub username: String,
}

fn main() {}
