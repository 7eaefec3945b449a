//! FastAPI Users' auth router for one backend: login, logout, and warden's refresh.

use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::body::{Fields, Reader};
use crate::error::{ApiError, ErrorCode};
use crate::guard::{Active, admit};
use crate::password::MAX_PASSWORD_BYTES;
use crate::user::{MAX_EMAIL_LEN, User};
use crate::warden::Warden;

/// `POST /auth/{name}/login`: OAuth2 password form fields `username` and `password`
/// (or the same as JSON). 200 `{"access_token", "token_type": "bearer"}`; 400
/// `LOGIN_BAD_CREDENTIALS` for an unknown user, a wrong password or an inactive
/// user alike; 422 for a malformed body.
pub(crate) async fn login(
    warden: Warden,
    backend: Arc<str>,
    fields: Fields,
) -> Result<Response, ApiError> {
    let mut reader = Reader::new(&fields);
    let username = reader.string("username", MAX_EMAIL_LEN);
    let password = reader.string("password", MAX_PASSWORD_BYTES);
    reader.optional_literal("grant_type", "password");
    reader.finish()?;
    let (Some(username), Some(password)) = (username, password) else {
        return Err(ApiError::internal());
    };
    let user = warden
        .manager()
        .authenticate(username, password.to_owned())
        .await
        .map_err(|error| {
            tracing::error!(%error, "login failed");
            ApiError::internal()
        })?;
    match user {
        Some(user) if user.is_active => login_response(&warden, &backend, &user).await,
        _ => Err(ApiError::code(ErrorCode::LoginBadCredentials)),
    }
}

/// `POST /auth/{name}/logout`: 204 for an active user of this backend, else 401.
pub(crate) async fn logout(
    warden: Warden,
    backend: Arc<str>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    admit::<Active>(warden.current_user(&headers, Some(&backend)).await?)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /auth/{name}/refresh`: an active user's valid token buys a fresh login
/// response (the recipe in FastAPI Users' docs, built in).
pub(crate) async fn refresh(
    warden: Warden,
    backend: Arc<str>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = admit::<Active>(warden.current_user(&headers, Some(&backend)).await?)?;
    login_response(&warden, &backend, &user).await
}

async fn login_response(warden: &Warden, backend: &str, user: &User) -> Result<Response, ApiError> {
    let strategy = warden.strategy(backend).ok_or_else(ApiError::internal)?;
    let token = strategy.issue(&user.id.to_string()).map_err(|error| {
        tracing::error!(%error, backend, "could not issue a token");
        ApiError::internal()
    })?;
    warden.manager().events().on_after_login(user).await;
    let mut response =
        Json(json!({ "access_token": token, "token_type": "bearer" })).into_response();
    // RFC 6749 §5.1: responses carrying tokens must not be cached.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
