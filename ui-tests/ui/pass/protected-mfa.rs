use axum::Router;
use axum::routing::post;
use warden::{Active, CurrentUser, Fresh, Mfa, User, Warden, protected};

/// Step-up: the session passed a second factor.
#[protected(active, mfa)]
async fn export_all_customers(user: User) -> String {
    user.email
}

/// A second factor, and a sign-in at most five minutes ago.
#[protected(active, mfa, fresh = 300)]
async fn change_payout_account(user: User) -> String {
    user.email
}

/// With no user parameter the guard still runs.
#[protected(mfa)]
async fn rotate_keys() -> &'static str {
    "rotated"
}

/// The same guard, named by hand.
async fn by_hand(user: CurrentUser<(Active, Mfa), User>) -> String {
    user.into_inner().email
}

/// By hand, with freshness too.
async fn by_hand_fresh(user: CurrentUser<(Active, Mfa, Fresh<300>)>) -> String {
    user.into_inner().email
}

fn main() {
    let _app: Router<Warden> = Router::new()
        .route("/export", post(export_all_customers))
        .route("/payout", post(change_payout_account))
        .route("/keys", post(rotate_keys))
        .route("/by-hand", post(by_hand))
        .route("/by-hand-fresh", post(by_hand_fresh));
}
