//! `POST /auth/register`, FastAPI Users' register router.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::body::{Fields, Reader};
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::manager::ManagerError;
use crate::model::UserModel;
use crate::password::MAX_PASSWORD_BYTES;
use crate::user::{MAX_EMAIL_LEN, UserCreate, normalize_email};
use crate::warden::Warden;

/// 201 `UserRead`; 400 `REGISTER_INVALID_PASSWORD` (with the hook's reason) or
/// `REGISTER_USER_ALREADY_EXISTS`; 422 for a malformed body; 429 with
/// `Retry-After` past the throttle's registrations per address (FastAPI Users has
/// no such limit).
pub(crate) async fn register<U: UserModel>(
    State(warden): State<Warden<U>>,
    extensions: axum::http::Extensions,
    headers: axum::http::HeaderMap,
    fields: Fields,
) -> Result<(StatusCode, Json<U>), ApiError> {
    let create = read::<U>(&fields)?;
    // Each registration hashes a new password: unthrottled, one client's flood
    // would hold the hashing workers (OWASP ASVS 2.2.1, anti-automation).
    if let Some(throttle) = warden.throttle() {
        throttle
            .register(warden.client_address(&extensions, &headers))
            .await?;
    }
    match warden.manager().register(create).await {
        Ok(user) => Ok((StatusCode::CREATED, Json(user))),
        Err(ManagerError::InvalidPassword(invalid)) => {
            Err(warden.error_with_reason(ErrorCode::RegisterInvalidPassword, invalid.reason))
        }
        Err(ManagerError::UserAlreadyExists) => {
            Err(warden.error(ErrorCode::RegisterUserAlreadyExists))
        }
        Err(ManagerError::InvalidEmail(msg)) => Err(ApiError::validation(vec![FieldError::body(
            "email",
            "value_error",
            msg,
        )])),
        Err(ManagerError::InvalidLogin(msg)) => Err(ApiError::validation(vec![FieldError::body(
            U::LOGIN,
            "value_error",
            msg,
        )])),
        Err(error) => Err(super::users::internal(error)),
    }
}

fn read<U: UserModel>(fields: &Fields) -> Result<UserCreate<U::Create>, ApiError> {
    fields.require_json()?;
    let mut reader = Reader::new(fields);
    // A model without an e-mail ignores one, as pydantic ignores unknown fields.
    let email = if U::HAS_EMAIL {
        reader.string("email", MAX_EMAIL_LEN)
    } else {
        Some("")
    };
    let password = reader.string("password", MAX_PASSWORD_BYTES);
    let is_active = reader.optional_bool("is_active");
    let is_superuser = reader.optional_bool("is_superuser");
    let is_verified = reader.optional_bool("is_verified");
    if let Some(Err(msg)) = email.filter(|_| U::HAS_EMAIL).map(normalize_email) {
        reader.push(FieldError::body("email", "value_error", msg));
    }
    let extra = reader.extra(U::read_create);
    let (email, password, extra) = reader.finish_with((email, password, extra))?;
    Ok(UserCreate {
        email: U::HAS_EMAIL.then(|| email.to_owned()),
        password: password.to_owned(),
        is_active,
        is_superuser,
        is_verified,
        extra,
    })
}
