//! A request header of the application's choosing (`X-API-Key`), for API keys.

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::{Transport, TransportDoc};
use crate::error::ApiError;

/// The token is the whole value of one request header (`X-API-Key: wdn_...`).
/// Only an API key backend uses it: it serves no login, so its login response is
/// never asked for.
///
/// ```
/// use axum::http::HeaderMap;
/// use warden_runtime::{HeaderTransport, Transport};
/// let mut headers = HeaderMap::new();
/// headers.insert("x-api-key", "wdn_abc".parse().unwrap());
/// assert_eq!(HeaderTransport::new("X-API-Key").token(&headers), Some("wdn_abc"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HeaderTransport {
    name: &'static str,
}

impl HeaderTransport {
    /// Reads the header `name` (matched case-insensitively, as HTTP does).
    pub const fn new(name: &'static str) -> Self {
        Self { name }
    }
}

impl Transport for HeaderTransport {
    fn token<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        // Exactly one value: two would leave which one counts to the reader.
        let mut values = headers.get_all(self.name).iter();
        let value = values.next()?;
        if values.next().is_some() {
            return None;
        }
        value.to_str().ok().map(str::trim).filter(|v| !v.is_empty())
    }

    fn login_response(&self, _token: &str, _expires_in: Option<u64>) -> Result<Response, ApiError> {
        Err(ApiError::internal())
    }

    fn logout_response(&self) -> Response {
        axum::http::StatusCode::NO_CONTENT.into_response()
    }

    fn openapi(&self) -> TransportDoc {
        TransportDoc::Header(self.name.to_owned())
    }
}
