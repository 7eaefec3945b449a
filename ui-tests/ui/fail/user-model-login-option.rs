#[warden::user_model(login = username)]
pub struct Player {
    pub username: Option<String>,
}

fn main() {}
