//! FastAPI Users' auth router for one backend: login, logout, and warden's refresh.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;

use super::body::{Fields, Reader};
use crate::authn::{Access, authorize};
use crate::error::{ApiError, ErrorCode};
use crate::model::UserModel;
use crate::password::MAX_PASSWORD_BYTES;
use crate::user::{MAX_EMAIL_LEN, normalize_email};
use crate::warden::Warden;

/// `POST /auth/{name}/login`: OAuth2 password form fields `username` and `password`
/// (or the same as JSON). 200 `{"access_token", "token_type": "bearer"}`; 400
/// `LOGIN_BAD_CREDENTIALS` for an unknown user, a wrong password or an inactive
/// user alike; 422 for a malformed body.
pub(crate) async fn login<U: UserModel>(
    warden: Warden<U>,
    backend: Arc<str>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, ApiError> {
    let entry = warden.backend(&backend).ok_or_else(ApiError::internal)?;
    // A cross-site form must not log a victim into the attacker's account (login
    // CSRF): a cookie login comes from an allowed origin too.
    crate::csrf::check(
        &Method::POST,
        &headers,
        entry.transport.ambient(),
        warden.allowed_origins(),
    )?;
    let mut reader = Reader::new(&fields);
    let username = reader.string("username", MAX_EMAIL_LEN);
    let password = reader.string("password", MAX_PASSWORD_BYTES);
    reader.optional_literal("grant_type", "password");
    let (username, password) = reader.finish_with((username, password))?;
    // The account as throttling counts it: an e-mail in its normalised form, so
    // its spellings share one count.
    let account = match U::LOGIN {
        "email" => normalize_email(username).unwrap_or_else(|_| username.to_owned()),
        _ => username.to_owned(),
    };
    let address = warden.client_address(&extensions, &headers);
    if let Some(throttle) = warden.throttle() {
        throttle.check_login(&account, address).await?;
    }
    let user = warden
        .manager()
        .authenticate(username, password.to_owned())
        .await
        .map_err(super::users::internal)?;
    match user {
        Some(user) if user.is_active() => {
            if let Some(throttle) = warden.throttle() {
                throttle.clear_account(&account).await?;
            }
            if warden.requires_verification() && !user.is_verified() {
                return Err(warden.error(ErrorCode::LoginUserNotVerified));
            }
            login_response(&warden, &backend, &user).await
        }
        _ => {
            if let Some(throttle) = warden.throttle() {
                throttle.failed_login(address).await?;
            }
            Err(warden.error(ErrorCode::LoginBadCredentials))
        }
    }
}

/// The guard of logout and refresh: an active user of this backend (verified too
/// when the warden requires it), from an allowed origin if the token is a cookie
/// (both are `POST`s).
async fn backend_user<'a, U: UserModel>(
    warden: &'a Warden<U>,
    backend: &str,
    headers: &'a HeaderMap,
) -> Result<crate::authn::Authenticated<'a, U>, ApiError> {
    let access = Access::ACTIVE.and(Access {
        verified: warden.requires_verification(),
        ..Access::ANY
    });
    authorize(warden, &Method::POST, headers, Some(backend), access).await
}

/// `POST /auth/{name}/logout`: the strategy destroys the token, the transport
/// answers (204; a cookie transport also clears its cookie); 401 without a valid
/// token of an active user of this backend.
pub(crate) async fn logout<U: UserModel>(
    warden: Warden<U>,
    backend: Arc<str>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let found = backend_user(&warden, &backend, &headers).await?;
    let entry = warden.backend(&backend).ok_or_else(ApiError::internal)?;
    entry
        .strategy
        .destroy_token(found.token, &found.user.id().to_string())
        .await?;
    Ok(entry.transport.logout_response())
}

/// `POST /auth/{name}/refresh`: an active user's valid token buys a fresh login
/// response (the recipe in FastAPI Users' docs, built in).
pub(crate) async fn refresh<U: UserModel>(
    warden: Warden<U>,
    backend: Arc<str>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let found = backend_user(&warden, &backend, &headers).await?;
    login_response(&warden, &backend, &found.user).await
}

/// The strategy writes a token, the transport answers with it.
async fn login_response<U: UserModel>(
    warden: &Warden<U>,
    backend: &str,
    user: &U,
) -> Result<Response, ApiError> {
    let entry = warden.backend(backend).ok_or_else(ApiError::internal)?;
    let token = entry.strategy.write_token(&user.id().to_string()).await?;
    warden.manager().events().on_after_login(user).await;
    let mut response = entry
        .transport
        .login_response(&token, entry.strategy.lifetime())?;
    // RFC 6749 §5.1: responses carrying tokens must not be cached.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
