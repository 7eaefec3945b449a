use axum::routing::get;
use warden::{User, protected};

#[protected(optional)]
async fn greet(user: Option<User>) -> String {
    match user {
        Some(user) => format!("Hello {}!", user.email),
        None => "Hello anonymous!".to_owned(),
    }
}

#[protected(optional, active, verified)]
async fn greet_verified(user: Option<User>) -> String {
    user.map_or_else(|| "Hello anonymous!".to_owned(), |user| user.email)
}

fn main() {
    let _: axum::Router<warden::Warden> = axum::Router::new()
        .route("/greet", get(greet))
        .route("/greet-verified", get(greet_verified));
}
