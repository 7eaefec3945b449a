//! FastAPI Users' auth router for one backend: login, logout, and warden's refresh.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};

use super::body::{Fields, Reader};
use crate::authn::{Access, authorize};
use crate::error::{ApiError, ErrorCode};
use crate::model::UserId;
use crate::model::UserModel;
use crate::password::MAX_PASSWORD_BYTES;
use crate::session::random_id;
use crate::session::{Admission, Session};
use crate::strategy::Grant;
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
            let now = crate::token::now();
            let login = Login::Start {
                created_at: now,
                expires_at: entry.max_age(now),
                user_agent: user_agent(&headers),
            };
            issue(&warden, &backend, &user, login).await
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
    authorize(
        warden,
        &Method::POST,
        headers,
        Some(backend),
        route_access(warden),
    )
    .await
}

/// What logout and refresh demand of their user.
fn route_access<U: UserModel>(warden: &Warden<U>) -> Access {
    Access::ACTIVE.and(Access {
        verified: warden.requires_verification(),
        ..Access::ANY
    })
}

/// A login of `user` through `backend`, from elsewhere than its password route (an
/// OAuth callback): a new session, the backend's login response.
#[cfg(feature = "oauth")]
pub(crate) async fn login_as<U: UserModel>(
    warden: &Warden<U>,
    backend: &str,
    user: &U,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let entry = warden.backend(backend).ok_or_else(ApiError::internal)?;
    let now = crate::token::now();
    let login = Login::Start {
        created_at: now,
        expires_at: entry.max_age(now),
        user_agent: user_agent(headers),
    };
    issue(warden, backend, user, login).await
}

/// `POST /auth/{name}/logout`: the strategy destroys the token and its session
/// ends, on every instance (with it every token of that login, refresh tokens
/// included); the transport answers (204; a cookie transport also clears its
/// cookie). 401 without a valid token of an active user of this backend.
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
    let sessions = warden.manager().sessions();
    match &found.session {
        Admission::Session { id, .. } => {
            sessions.end(id).await?;
        }
        // A JWT without a session (FastAPI Users' own) cannot be told apart from its
        // siblings: all of the user's tokens end.
        _ if found.issued_at.is_some() => {
            sessions.end_user(&found.user.id().to_string()).await?;
        }
        // Neither session nor issue time: the strategy's destroy_token ended it.
        _ => {}
    }
    Ok(entry.transport.logout_response())
}

/// `POST /auth/{name}/refresh`. With a refresh token in the body (RFC 6749 §6:
/// form `grant_type=refresh_token&refresh_token=...`, or JSON
/// `{"refresh_token": ...}`) on a backend that issues them: the token is used up
/// and a new pair answered; a token used before ends its whole session. Without
/// one: FastAPI Users' recipe, a valid access token buys a fresh one of the same
/// login, which keeps its login time and never outlives the maximum session age.
pub(crate) async fn refresh<U: UserModel>(
    warden: Warden<U>,
    backend: Arc<str>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, ApiError> {
    let mut reader = Reader::new(&fields);
    let grant_type = reader.optional_string("grant_type", 64);
    let refresh_token = reader.optional_string("refresh_token", 256);
    reader.finish()?;
    if let Some(refresh_token) = refresh_token {
        if grant_type.is_some_and(|grant| grant != "refresh_token") {
            return Err(oauth_error("unsupported_grant_type"));
        }
        return refresh_grant(&warden, &backend, refresh_token).await;
    }
    if grant_type.is_some_and(|grant| grant == "refresh_token") {
        return Err(oauth_error("invalid_request"));
    }
    let found = backend_user(&warden, &backend, &headers).await?;
    let entry = warden.backend(&backend).ok_or_else(ApiError::internal)?;
    let now = crate::token::now();
    let login = match found.session {
        Admission::Session {
            id,
            created_at,
            expires_at,
        } => Login::Continue {
            id,
            created_at,
            expires_at,
        },
        // A token without a session starts one, from the token's own issue time.
        _ => {
            let created_at = found.issued_at.unwrap_or(now);
            let expires_at = entry.max_age(created_at);
            if expires_at.is_some_and(|end| end <= now) {
                return Err(ApiError::unauthorized());
            }
            Login::Start {
                created_at,
                expires_at,
                user_agent: user_agent(&headers),
            }
        }
    };
    issue(&warden, &backend, &found.user, login).await
}

/// The refresh-token grant. Its errors are RFC 6749 §5.2's: 400 `invalid_grant`.
async fn refresh_grant<U: UserModel>(
    warden: &Warden<U>,
    backend: &str,
    refresh_token: &str,
) -> Result<Response, ApiError> {
    let entry = warden.backend(backend).ok_or_else(ApiError::internal)?;
    if entry.sessions.refresh.is_none() {
        return Err(oauth_error("unsupported_grant_type"));
    }
    let Some(session) = warden
        .manager()
        .sessions()
        .redeem_refresh(refresh_token)
        .await?
        .filter(|session| session.backend == backend)
    else {
        return Err(oauth_error("invalid_grant"));
    };
    let user = U::Id::parse(&session.user_id);
    let user = match user {
        Some(id) => warden.manager().get(&id).await?,
        None => None,
    };
    let Ok(user) = route_access(warden).admit(user) else {
        return Err(oauth_error("invalid_grant"));
    };
    let login = Login::Continue {
        id: session.id,
        created_at: session.created_at,
        expires_at: session.expires_at,
    };
    issue(warden, backend, &user, login).await
}

/// RFC 6749 §5.2's error response: 400 `{"error": code}`.
fn oauth_error(code: &'static str) -> ApiError {
    ApiError::oauth(code)
}

/// The login request's `User-Agent`, for the sessions list.
fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Which login a token is issued for.
enum Login {
    /// A new one: a session is opened.
    Start {
        created_at: i64,
        expires_at: Option<i64>,
        user_agent: Option<String>,
    },
    /// An existing session, refreshed.
    Continue {
        id: String,
        created_at: i64,
        expires_at: Option<i64>,
    },
}

/// The strategy writes a token of the login's session (opening it if new), a refresh
/// token joins it if the backend issues them, and the transport answers.
async fn issue<U: UserModel>(
    warden: &Warden<U>,
    backend: &str,
    user: &U,
    login: Login,
) -> Result<Response, ApiError> {
    let entry = warden.backend(backend).ok_or_else(ApiError::internal)?;
    let sessions = warden.manager().sessions();
    let subject = user.id().to_string();
    let (id, created_at, expires_at, user_agent, new) = match login {
        Login::Start {
            created_at,
            expires_at,
            user_agent,
        } => (random_id()?, created_at, expires_at, user_agent, true),
        Login::Continue {
            id,
            created_at,
            expires_at,
        } => (id, created_at, expires_at, None, false),
    };
    let grant = Grant::new(&subject, &id, created_at, expires_at);
    let issued = entry.strategy.write_token(&grant).await?;
    if let Some(session) = &issued.session
        && (new || *session != id)
    {
        // A new login, or an opaque token (its session is its hash): recorded
        // before the token is handed out, so no instance sees it without one.
        let record = Session::new(
            session.as_str(),
            subject.as_str(),
            backend,
            created_at,
            expires_at,
        )
        .user_agent(user_agent.as_deref());
        sessions.open(record).await?;
    }
    let now = crate::token::now();
    let refresh = match (entry.sessions.refresh, &issued.session) {
        (Some(seconds), Some(session)) => {
            let end = now.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX));
            let end = expires_at.map_or(end, |cap| end.min(cap));
            Some(sessions.issue_refresh(session, end).await?)
        }
        _ => None,
    };
    // `expires_in` as the token really lives: the session's end may come first.
    let expires_in = match (entry.strategy.lifetime(), expires_at) {
        (Some(lifetime), Some(end)) => Some(lifetime.min(u64::try_from(end - now).unwrap_or(0))),
        (Some(lifetime), None) => Some(lifetime),
        (None, end) => end.map(|end| u64::try_from(end - now).unwrap_or(0)),
    };
    warden.manager().events().on_after_login(user).await;
    let mut response = match refresh {
        // Refresh tokens ride beside the access token in the bearer JSON (RFC 6749
        // §5.1); a client that knows only `access_token` reads it as before.
        Some(refresh) => {
            let mut body = serde_json::json!({
                "access_token": issued.token,
                "token_type": "bearer",
                "refresh_token": refresh,
            });
            if let Some(expires_in) = expires_in {
                body["expires_in"] = expires_in.into();
            }
            axum::Json(body).into_response()
        }
        None => entry.transport.login_response(&issued.token, expires_in)?,
    };
    // RFC 6749 §5.1: responses carrying tokens must not be cached.
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}
