//! FastAPI Users' verify router.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

use super::body::{Fields, Reader};
use super::users::internal;
use crate::error::{ApiError, ErrorCode};
use crate::manager::ManagerError;
use crate::model::UserModel;
use crate::warden::Warden;

/// `POST /auth/request-verify-token` `{"email"}`: always 202 `null`.
pub(crate) async fn request_verify_token<U: UserModel>(
    State(warden): State<Warden<U>>,
    extensions: axum::http::Extensions,
    headers: axum::http::HeaderMap,
    fields: Fields,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // Each request may send an e-mail: counted per client address.
    if let Some(throttle) = warden.throttle() {
        throttle
            .request(warden.client_address(&extensions, &headers))
            .await?;
    }
    let email = fields.email_only()?;
    warden
        .manager()
        .request_verify(&email)
        .await
        .map_err(internal)?;
    Ok((StatusCode::ACCEPTED, Json(Value::Null)))
}

/// `POST /auth/verify` `{"token"}`: 200 `UserRead`; 400 `VERIFY_USER_BAD_TOKEN` or
/// `VERIFY_USER_ALREADY_VERIFIED`.
pub(crate) async fn verify<U: UserModel>(
    State(warden): State<Warden<U>>,
    fields: Fields,
) -> Result<Json<U>, ApiError> {
    fields.require_json()?;
    let mut reader = Reader::new(&fields);
    let token = reader.string("token", usize::MAX);
    let token = reader.finish_with(token)?;
    match warden.manager().verify(token).await {
        Ok(user) => Ok(Json(user)),
        Err(ManagerError::BadToken) => Err(warden.error(ErrorCode::VerifyUserBadToken)),
        Err(ManagerError::AlreadyVerified) => {
            Err(warden.error(ErrorCode::VerifyUserAlreadyVerified))
        }
        Err(error) => Err(internal(error)),
    }
}
