use axum::Json;
use axum::routing::get;
use warden::{User, protected};

#[protected(active)]
async fn me(mut user: User) -> Json<User> {
    user.email = user.email.to_lowercase();
    Json(user)
}

fn main() {
    let _: axum::Router<warden::Warden> = axum::Router::new().route("/me", get(me));
}
