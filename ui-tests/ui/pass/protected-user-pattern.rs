// Any pattern receives the user, not only `user`.
use axum::routing::get;
use warden::{User, protected};

#[protected(active)]
async fn me(me: User) -> String {
    me.email
}

#[protected(active)]
async fn id(User { id, .. }: User) -> String {
    id.to_string()
}

#[protected(optional)]
async fn maybe(_: Option<User>) -> &'static str {
    "ok"
}

fn main() {
    let _: axum::Router<warden::Warden> = axum::Router::new()
        .route("/me", get(me))
        .route("/id", get(id))
        .route("/maybe", get(maybe));
}
