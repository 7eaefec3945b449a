use axum::Router;
use axum::routing::post;
use warden::{Active, CurrentUser, Fresh, OptionalUser, User, Warden, protected};

/// Step-up: at most five minutes since the last sign-in.
#[protected(active, fresh = 300)]
async fn change_payout_account(user: User) -> String {
    user.email
}

/// The same guard, named by hand; the stricter of two freshness rules applies.
async fn by_hand(user: CurrentUser<(Active, Fresh<300>, Fresh<60>)>) -> String {
    user.into_inner().email
}

/// Named by hand, a stale sign-in may read as no user (`#[protected(optional,
/// fresh = N)]` is refused: it reads as a step-up that never challenges).
async fn maybe(OptionalUser { user, .. }: OptionalUser<(Active, Fresh<1>)>) -> String {
    user.map(|user| user.email).unwrap_or_default()
}

fn main() {
    let _app: Router<Warden> = Router::new()
        .route("/payout", post(change_payout_account))
        .route("/by-hand", post(by_hand))
        .route("/maybe", post(maybe));
}
