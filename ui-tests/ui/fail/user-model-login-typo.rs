#[warden::user_model(login = usernme)]
pub struct Player {
    pub username: String,
}

fn main() {}
