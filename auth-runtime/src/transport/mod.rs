//! The transport seam: where a backend finds its token in a request, and how its
//! login and logout responses carry it (FastAPI Users' `Transport` protocol).
//! [`BearerTransport`] and [`CookieTransport`] ship; an application can add its own.

mod bearer;
mod cookie;
mod extract;
mod header;

use axum::http::HeaderMap;
use axum::response::Response;

pub use bearer::BearerTransport;
pub use cookie::{CookieSettings, CookieTransport, SameSite};
pub use extract::{bearer_token, cookie_token};
pub(crate) use extract::{cookie_values, private_cookie, set_cookie};
pub use header::HeaderTransport;

use crate::error::ApiError;

/// How the OpenAPI document shows a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportDoc {
    /// `Authorization: Bearer`, an OAuth2 password flow whose token URL is the
    /// backend's login route; login answers the bearer JSON.
    Bearer,
    /// A cookie of this name (an API key in a cookie); login answers 204.
    Cookie(String),
    /// A request header of this name (an API key in a header); login answers the
    /// bearer JSON.
    Header(String),
}

/// Finds a backend's token in a request and shapes its login and logout responses.
///
/// ```
/// use axum::http::HeaderMap;
/// use axum::response::{IntoResponse, Response};
/// use warden_runtime::{ApiError, Transport, TransportDoc};
///
/// /// The token in an `X-Api-Token` header.
/// struct ApiToken;
///
/// impl Transport for ApiToken {
///     fn token<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
///         headers.get("x-api-token")?.to_str().ok()
///     }
///     fn login_response(&self, token: &str, _expires_in: Option<u64>) -> Result<Response, ApiError> {
///         Ok(axum::Json(serde_json::json!({ "access_token": token, "token_type": "bearer" })).into_response())
///     }
///     fn logout_response(&self) -> Response {
///         axum::http::StatusCode::NO_CONTENT.into_response()
///     }
///     fn openapi(&self) -> TransportDoc {
///         TransportDoc::Header("X-Api-Token".into())
///     }
/// }
/// ```
pub trait Transport: Send + Sync + 'static {
    /// The token of a request, if it carries exactly one this transport reads.
    fn token<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str>;

    /// The response to a login (or refresh) that issued `token`, valid for
    /// `expires_in` seconds when known.
    fn login_response(&self, token: &str, expires_in: Option<u64>) -> Result<Response, ApiError>;

    /// The response to a logout.
    fn logout_response(&self) -> Response;

    /// How the OpenAPI document describes this transport.
    fn openapi(&self) -> TransportDoc;

    /// `Set-Cookie` keeping a superuser's own token aside while they impersonate a
    /// user (`None`: clearing it), so that `stop-impersonating` restores their
    /// session. `None` (the default): the transport keeps nothing aside (a bearer
    /// client holds its own token).
    fn set_aside(&self, token: Option<&str>) -> Option<axum::http::HeaderValue> {
        let _ = token;
        None
    }

    /// The token kept aside by [`set_aside`](Self::set_aside), if the request
    /// carries one.
    fn aside<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        let _ = headers;
        None
    }

    /// Whether browsers send the token by themselves, on requests any site makes them
    /// send (a cookie): such requests that change state must then come from an
    /// allowed origin (CSRF). `false` (the default) for a token the client attaches.
    fn ambient(&self) -> bool {
        false
    }
}
