// A model that logs in with a username has no e-mail unless it asks for one.
#[warden::user_model(login = username)]
pub struct Player {
    pub username: String,
}

fn mail(player: &Player) -> &str {
    &player.email
}

fn main() {}
