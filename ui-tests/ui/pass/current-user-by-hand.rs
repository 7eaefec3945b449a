// The guards without the macro.
use axum::Json;
use axum::routing::get;
use warden::{Active, CurrentUser, OptionalUser, User, Verified};

async fn verified(CurrentUser { user, .. }: CurrentUser<(Active, Verified)>) -> Json<User> {
    Json(user)
}

async fn maybe(user: Option<CurrentUser>) -> String {
    user.map(|user| user.email.clone()).unwrap_or_default()
}

async fn optional(OptionalUser { user, .. }: OptionalUser) -> String {
    user.map(|user| user.email).unwrap_or_default()
}

async fn deref(user: CurrentUser) -> String {
    user.email.clone()
}

fn main() {
    let _: axum::Router<warden::Warden> = axum::Router::new()
        .route("/verified", get(verified))
        .route("/maybe", get(maybe))
        .route("/optional", get(optional))
        .route("/deref", get(deref));
}
