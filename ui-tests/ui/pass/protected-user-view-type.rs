// The application's own view of the user, built with `From<warden::User>`, is named
// through `CurrentUser` explicitly: `#[protected]` hands the user only to a parameter
// of the model's own type.
use axum::routing::get;
use warden::{Active, CurrentUser, OptionalUser, protected};

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

async fn me(CurrentUser { user, .. }: CurrentUser<Active, view::User>) -> String {
    user.email
}

#[protected(verified)]
async fn verified(CurrentUser { user, .. }: CurrentUser<Active, view::User>) -> String {
    user.email
}

async fn maybe(OptionalUser { user, .. }: OptionalUser<(), view::User>) -> String {
    user.map(|user| user.email).unwrap_or_default()
}

fn main() {
    let _: axum::Router<warden::Warden> = axum::Router::new()
        .route("/me", get(me))
        .route("/verified", get(verified))
        .route("/maybe", get(maybe));
}
