use axum::routing::get;
use warden::{User, protected};

mod reexport {
    pub use ::warden as auth;
}

#[protected(active, crate = "::warden")]
async fn me(user: User) -> String {
    user.email
}

#[protected(verified, crate = "crate::reexport::auth")]
async fn verified() -> &'static str {
    "ok"
}

fn main() {
    let _: axum::Router<warden::Warden> = axum::Router::new()
        .route("/me", get(me))
        .route("/verified", get(verified));
}
