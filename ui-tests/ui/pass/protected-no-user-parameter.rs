// No `User` parameter: the macro adds a hidden guard.
use axum::routing::get;
use warden::protected;

#[protected(active, superuser)]
async fn admin_only() -> &'static str {
    "secret"
}

fn main() {
    let _: axum::Router<warden::Warden> = axum::Router::new().route("/admin", get(admin_only));
}
