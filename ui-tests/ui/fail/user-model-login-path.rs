#[warden::user_model(login = player::username)]
pub struct Player {
    pub username: String,
}

fn main() {}
