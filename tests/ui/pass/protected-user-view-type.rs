// A parameter type named `User` that is the application's own view of the user,
// built with `From<warden::User>`.
use axum::routing::get;
use warden::protected;

mod view {
    pub struct User {
        pub email: String,
    }

    impl From<warden::User> for User {
        fn from(user: warden::User) -> Self {
            Self { email: user.email }
        }
    }
}

#[protected(active)]
async fn me(user: view::User) -> String {
    user.email
}

#[protected(optional)]
async fn maybe(user: Option<view::User>) -> String {
    user.map(|user| user.email).unwrap_or_default()
}

fn main() {
    let _: axum::Router<warden::Warden> = axum::Router::new()
        .route("/me", get(me))
        .route("/maybe", get(maybe));
}
