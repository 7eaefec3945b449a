//! A cookie, FastAPI Users' `CookieTransport`.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Transport, TransportDoc, cookie_token, set_cookie};
use crate::error::ApiError;

/// The token travels in a cookie; login answers 204 with `Set-Cookie`, logout 204
/// clearing it.
#[derive(Debug, Clone, Copy, Default)]
pub struct CookieTransport {
    /// The cookie's name and attributes.
    pub settings: CookieSettings,
}

impl CookieTransport {
    /// A transport with these cookie settings.
    pub fn new(settings: CookieSettings) -> Self {
        Self { settings }
    }

    fn response(&self, token: Option<&str>) -> Result<Response, ApiError> {
        let value = set_cookie(&self.settings, token).ok_or_else(ApiError::internal)?;
        let mut response = StatusCode::NO_CONTENT.into_response();
        response.headers_mut().insert(header::SET_COOKIE, value);
        Ok(response)
    }
}

impl Transport for CookieTransport {
    fn token<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        cookie_token(headers, self.settings.name)
    }

    fn ambient(&self) -> bool {
        true
    }

    fn login_response(&self, token: &str, _expires_in: Option<u64>) -> Result<Response, ApiError> {
        self.response(Some(token))
    }

    fn logout_response(&self) -> Response {
        self.response(None)
            .unwrap_or_else(|_| StatusCode::NO_CONTENT.into_response())
    }

    fn openapi(&self) -> TransportDoc {
        TransportDoc::Cookie(self.settings.name.to_owned())
    }

    /// `<name>_admin`, always `HttpOnly`, with the cookie's other attributes.
    fn set_aside(&self, token: Option<&str>) -> Option<axum::http::HeaderValue> {
        let settings = CookieSettings {
            http_only: true,
            ..self.settings
        };
        super::extract::set_named_cookie(&settings, &aside_name(self.settings.name), token)
    }

    fn aside<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        cookie_token(headers, &aside_name(self.settings.name))
    }
}

/// The cookie an impersonating superuser's own token waits in.
fn aside_name(name: &str) -> String {
    format!("{name}_admin")
}

/// The cookie of a cookie transport. Defaults are FastAPI Users':
/// `fastapiusersauth`, session cookie, `/`, `Secure`, `HttpOnly`, `SameSite=Lax`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieSettings {
    /// Cookie name.
    pub name: &'static str,
    /// `Max-Age` in seconds; `None`: a session cookie.
    pub max_age: Option<u64>,
    /// `Path`.
    pub path: &'static str,
    /// `Domain`; `None`: the host that set it.
    pub domain: Option<&'static str>,
    /// `Secure`: sent over HTTPS only.
    pub secure: bool,
    /// `HttpOnly`: invisible to scripts.
    pub http_only: bool,
    /// `SameSite`.
    pub same_site: SameSite,
}

impl CookieSettings {
    /// FastAPI Users' defaults.
    pub const DEFAULT: Self = Self {
        name: "fastapiusersauth",
        max_age: None,
        path: "/",
        domain: None,
        secure: true,
        http_only: true,
        same_site: SameSite::Lax,
    };
}

impl Default for CookieSettings {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// Sent on top-level navigations from other sites, not on their POSTs: the
    /// default, and a CSRF defence for the cookie's state-changing uses.
    Lax,
    /// Never sent from other sites.
    Strict,
    /// Always sent (requires `Secure`).
    None,
}
