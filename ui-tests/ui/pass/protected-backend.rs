// Only tokens of one backend count.
use axum::Json;
use axum::routing::get;
use warden::{User, auth_backend, protected};

#[auth_backend(name = "api", lifetime = 3600)]
pub struct Api;

#[protected(active, backend = Api)]
async fn me(user: User) -> Json<User> {
    Json(user)
}

#[protected(backend = Api)]
async fn ping() -> &'static str {
    "pong"
}

fn main() {
    let _: axum::Router<warden::Warden> = axum::Router::new()
        .route("/me", get(me))
        .route("/ping", get(ping));
}
