//! FastAPI Users' users router (`GET /users/me` so far).

use axum::Json;

use crate::guard::{Active, CurrentUser};
use crate::user::User;

/// `GET /users/me`: the current active user as `UserRead`.
pub(crate) async fn me(CurrentUser { user, .. }: CurrentUser<Active>) -> Json<User> {
    Json(user)
}
