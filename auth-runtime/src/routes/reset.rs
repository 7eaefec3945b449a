//! FastAPI Users' reset-password router.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

use super::body::{Fields, Reader};
use super::users::internal;
use crate::error::{ApiError, ErrorCode};
use crate::manager::ManagerError;
use crate::model::UserModel;
use crate::password::MAX_PASSWORD_BYTES;
use crate::warden::Warden;

/// `POST /auth/forgot-password` `{"email"}`: always 202 `null`, whether or not the
/// user exists or is active.
pub(crate) async fn forgot_password<U: UserModel>(
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
        .forgot_password(&email)
        .await
        .map_err(internal)?;
    Ok((StatusCode::ACCEPTED, Json(Value::Null)))
}

/// `POST /auth/reset-password` `{"token", "password"}`: 200 `null`; 400
/// `RESET_PASSWORD_BAD_TOKEN` or `{"code": "RESET_PASSWORD_INVALID_PASSWORD", "reason"}`.
pub(crate) async fn reset_password<U: UserModel>(
    State(warden): State<Warden<U>>,
    fields: Fields,
) -> Result<Json<Value>, ApiError> {
    fields.require_json()?;
    let mut reader = Reader::new(&fields);
    let token = reader.string("token", usize::MAX);
    let password = reader.string("password", MAX_PASSWORD_BYTES);
    let (token, password) = reader.finish_with((token, password))?;
    match warden
        .manager()
        .reset_password(token, password.to_owned())
        .await
    {
        Ok(user) => {
            // The owner proved it: failed logins no longer hold the account back.
            if let Some(throttle) = warden.throttle() {
                throttle.clear_account(&user.id().to_string()).await?;
            }
            warden.after_recovery(&user).await?;
            Ok(Json(Value::Null))
        }
        Err(ManagerError::BadToken) => Err(warden.error(ErrorCode::ResetPasswordBadToken)),
        Err(ManagerError::InvalidPassword(invalid)) => {
            Err(warden.error_with_reason(ErrorCode::ResetPasswordInvalidPassword, invalid.reason))
        }
        Err(error) => Err(internal(error)),
    }
}
