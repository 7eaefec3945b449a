// `warden::User` written as a path, without importing it.
use axum::routing::get;

#[warden::protected(active)]
async fn me(user: warden::User) -> String {
    user.email
}

#[warden::protected(optional)]
async fn maybe(user: Option<::warden::User>) -> String {
    user.map(|user| user.email).unwrap_or_default()
}

fn main() {
    let _: axum::Router<warden::Warden> = axum::Router::new()
        .route("/me", get(me))
        .route("/maybe", get(maybe));
}
