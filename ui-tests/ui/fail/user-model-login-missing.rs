#[warden::user_model(login = username)]
pub struct Player {}

fn main() {}
