// The handler takes warden's `User` but the router's warden is built for `Member`.
use axum::routing::get;
use warden::{User, Warden, protected, user_model};

#[user_model]
pub struct Member {}

#[protected(active)]
async fn me(user: User) -> String {
    user.email
}

fn main() {
    let _: axum::Router<Warden<Member>> = axum::Router::new().route("/me", get(me));
}
