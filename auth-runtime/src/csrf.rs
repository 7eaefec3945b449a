//! Cross-site request forgery defence for cookie-authenticated requests.
//!
//! A browser attaches a cookie to any request a page of another site makes it send,
//! so a state-changing request authenticated by the cookie (logout, refresh, a
//! `PATCH` or `DELETE`, the cookie login itself: login CSRF) must prove it comes from
//! the application's own pages. Browsers say where a request comes from in
//! `Sec-Fetch-Site` and `Origin` (RFC 6454; OWASP's CSRF cheat sheet, "verifying
//! origin with standard headers"); clients that send neither are not browsers and
//! cannot be forged into sending a cookie. `SameSite=Lax` remains the first line.

use axum::http::{HeaderMap, Method, header};

use crate::error::ApiError;

/// Whether a request with this method may change state (RFC 9110 §9.2.1).
fn unsafe_method(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// The `host[:port]` of an origin such as `https://app.example.com:8443`, when it
/// is the request's own origin as far as the server can tell: an `https` one. A
/// page at `http://app` is another origin than `https://app` (RFC 6454 §4: the
/// scheme is part of it), and whoever sits on the network path can write it, so
/// the host alone must not admit it; list it in `allowed_origins` to admit it. A
/// loopback host is its own machine's development server, admitted over `http`.
fn authority(origin: &str) -> Option<&str> {
    let (scheme, rest) = origin.split_once("://")?;
    let authority = rest.trim_end_matches('/');
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (scheme.eq_ignore_ascii_case("https") || (scheme.eq_ignore_ascii_case("http") && loopback))
        .then_some(authority)
}

/// Admits a request authenticated by a cookie (`ambient`) when its method is safe,
/// or it comes from the request's own origin or one of `allowed` (full origins,
/// `https://app.example.com`); 403 otherwise. Requests not authenticated by a
/// cookie pass: a bearer token is never sent by a browser on its own.
pub(crate) fn check(
    method: &Method,
    headers: &HeaderMap,
    ambient: bool,
    allowed: &[String],
) -> Result<(), ApiError> {
    if !ambient || !unsafe_method(method) {
        return Ok(());
    }
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let fetch_site = text("sec-fetch-site");
    // `none`: the user typed the address or used a bookmark.
    if matches!(fetch_site, Some("same-origin" | "none")) {
        return Ok(());
    }
    let admitted = match text(header::ORIGIN.as_str()) {
        Some(origin) => {
            allowed.iter().any(|allowed| allowed == origin)
                || authority(origin).is_some_and(|authority| {
                    text(header::HOST.as_str())
                        .is_some_and(|host| host.eq_ignore_ascii_case(authority))
                })
        }
        // A browser that says the request is cross-site but hides its origin.
        None => fetch_site.is_none(),
    };
    if admitted {
        Ok(())
    } else {
        tracing::info!(
            origin = text(header::ORIGIN.as_str()),
            fetch_site,
            "cross-origin request with the session cookie refused"
        );
        Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            serde_json::Value::from("Cross-origin request refused"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn only_cookie_state_changes_from_elsewhere_are_refused() {
        let allowed = ["https://admin.example.com".to_owned()];
        let check = |method: Method, pairs: &[(&'static str, &'static str)], ambient| {
            check(&method, &headers(pairs), ambient, &allowed).is_ok()
        };
        let host = ("host", "app.example.com");
        let evil = ("origin", "https://evil.example");
        assert!(check(Method::GET, &[host, evil], true), "safe method");
        assert!(check(Method::POST, &[host, evil], false), "bearer token");
        assert!(!check(Method::POST, &[host, evil], true));
        assert!(!check(Method::DELETE, &[host, ("origin", "null")], true));
        assert!(check(
            Method::POST,
            &[host, ("origin", "https://app.example.com")],
            true
        ));
        assert!(check(
            Method::PATCH,
            &[host, ("origin", "https://admin.example.com")],
            true
        ));
        assert!(check(Method::POST, &[host], true), "not a browser");
        assert!(
            !check(
                Method::POST,
                &[host, ("origin", "http://app.example.com")],
                true
            ),
            "a plain-http page of the same host is another origin"
        );
        let local = ("host", "127.0.0.1:8000");
        assert!(check(
            Method::POST,
            &[local, ("origin", "http://127.0.0.1:8000")],
            true
        ));
        let local = ("host", "localhost:8000");
        assert!(check(
            Method::POST,
            &[local, ("origin", "http://localhost:8000")],
            true
        ));
        assert!(check(
            Method::POST,
            &[host, ("sec-fetch-site", "same-origin")],
            true
        ));
        assert!(!check(
            Method::POST,
            &[host, ("sec-fetch-site", "cross-site")],
            true
        ));
        assert!(!check(
            Method::POST,
            &[host, ("sec-fetch-site", "same-site")],
            true
        ));
    }
}
