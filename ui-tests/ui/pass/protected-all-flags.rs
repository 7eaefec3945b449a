use axum::Json;
use axum::routing::get;
use warden::{User, auth_backend, protected};

#[auth_backend(lifetime = 3600)]
pub struct Jwt;

#[protected(active, verified, superuser, fresh = 300, mfa, backend = Jwt)]
async fn admin(user: User) -> Json<User> {
    Json(user)
}

fn main() {
    let _: axum::Router<warden::Warden> = axum::Router::new().route("/admin", get(admin));
}
