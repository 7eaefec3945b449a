// Username logins: a model without an e-mail, and one with both; the login field is
// read and given at registration without saying so.
use warden::{MemoryStore, UserModel, Warden, auth_backend, protected, user_model};

#[user_model(login = username)]
pub struct Player {
    #[user(update)]
    pub username: String,
    #[user(read, create)]
    pub nickname: Option<String>,
}

#[user_model(login = username, email, id = i64)]
pub struct Staff {
    pub username: String,
}

#[auth_backend(lifetime = 3600, secret = "0123456789abcdef0123456789abcdef")]
pub struct Jwt;

#[protected(active)]
async fn hello(user: Player) -> String {
    format!("Hello {}", user.username)
}

fn main() {
    let warden = Warden::<Player>::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .build()
        .unwrap();
    let _: axum::Router = axum::Router::new()
        .route("/hello", axum::routing::get(hello))
        .with_state(warden);
    assert_eq!(Player::LOGIN, "username");
    assert!(!Player::HAS_EMAIL && Staff::HAS_EMAIL);
    let _ = PlayerCreate { username: "ann".into(), nickname: None };
    let _ = PlayerUpdate { username: Some("annie".into()) };
    let _ = StaffCreate { username: "bob".into() };
    let staff = |s: &Staff| (s.login().to_owned(), s.email().map(str::to_owned), s.email.clone());
    let _ = staff;
}
