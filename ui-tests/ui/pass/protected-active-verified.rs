use axum::Json;
use axum::routing::get;
use warden::{User, protected};

#[protected(active, verified)]
async fn me(user: User) -> Json<User> {
    Json(user)
}

fn main() {
    let _: axum::Router<warden::Warden> = axum::Router::new().route("/me", get(me));
}
