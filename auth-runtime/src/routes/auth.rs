//! FastAPI Users' auth router for one backend: login, logout, and warden's refresh.

use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::body::{Fields, Reader};
use crate::backend::Transport;
use crate::error::{ApiError, ErrorCode};
use crate::password::MAX_PASSWORD_BYTES;
use crate::transport::set_cookie;
use crate::user::{MAX_EMAIL_LEN, User};
use crate::warden::Requirements;
use crate::warden::Warden;

const ACTIVE: Requirements = Requirements {
    active: true,
    verified: false,
    superuser: false,
};

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
        Some(user) if user.is_active => {
            if warden.requires_verification() && !user.is_verified {
                return Err(ApiError::code(ErrorCode::LoginUserNotVerified));
            }
            login_response(&warden, &backend, &user).await
        }
        _ => Err(ApiError::code(ErrorCode::LoginBadCredentials)),
    }
}

/// `POST /auth/{name}/logout`: 204 for an active user of this backend (a cookie
/// transport also clears its cookie), else 401.
pub(crate) async fn logout(
    warden: Warden,
    backend: Arc<str>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    warden.authorize(&headers, Some(&backend), ACTIVE).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(Transport::Cookie(cookie)) = warden.backend(&backend).map(|b| b.transport)
        && let Some(value) = set_cookie(&cookie, None)
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// `POST /auth/{name}/refresh`: an active user's valid token buys a fresh login
/// response (the recipe in FastAPI Users' docs, built in).
pub(crate) async fn refresh(
    warden: Warden,
    backend: Arc<str>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = warden.authorize(&headers, Some(&backend), ACTIVE).await?;
    login_response(&warden, &backend, &user).await
}

/// The transport's login response: bearer JSON, or 204 with `Set-Cookie`.
async fn login_response(warden: &Warden, backend: &str, user: &User) -> Result<Response, ApiError> {
    let entry = warden.backend(backend).ok_or_else(ApiError::internal)?;
    let token = entry
        .strategy
        .issue(&user.id.to_string())
        .map_err(|error| {
            tracing::error!(%error, backend, "could not issue a token");
            ApiError::internal()
        })?;
    warden.manager().events().on_after_login(user).await;
    let mut response = match &entry.transport {
        Transport::Bearer => {
            Json(json!({ "access_token": token, "token_type": "bearer" })).into_response()
        }
        Transport::Cookie(cookie) => {
            let value = set_cookie(cookie, Some(&token)).ok_or_else(ApiError::internal)?;
            let mut response = StatusCode::NO_CONTENT.into_response();
            response.headers_mut().insert(header::SET_COOKIE, value);
            response
        }
    };
    // RFC 6749 §5.1: responses carrying tokens must not be cached.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
