//! Reading a token from headers, and writing the cookie that carries one.

use axum::http::{HeaderMap, HeaderValue, header};

use super::cookie::{CookieSettings, SameSite};

/// The bearer token of a request: the one `Authorization` header, scheme `Bearer`
/// (any case, as RFC 7235 and FastAPI's `OAuth2PasswordBearer` allow), one space,
/// then the token.
///
/// `None` when absent or malformed, and when the header appears more than once:
/// FastAPI takes the first, which lets a proxy and a client disagree about who is
/// calling (RFC 6750 §2: one method, one token). Tokens in the query string are never read.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Every value of the cookie `name` the request carries, in the order sent (RFC 6265
/// §5.4): one parser for the token cookies, the OAuth CSRF cookie and device
/// cookies, each deciding what two of them mean.
pub(crate) fn cookie_values<'a, 'n>(
    headers: &'a HeaderMap,
    name: &'n str,
) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(move |(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The value of the cookie `name`: `None` when absent, or when the request carries
/// it more than once (the same ambiguity as two `Authorization` headers).
pub fn cookie_token<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut found = cookie_values(headers, name);
    let first = found.next();
    if found.next().is_some() {
        return None;
    }
    first.filter(|token| !token.is_empty())
}

/// `Set-Cookie` carrying `token` (or clearing the cookie when `token` is `None`).
pub(crate) fn set_cookie(settings: &CookieSettings, token: Option<&str>) -> Option<HeaderValue> {
    set_named_cookie(settings, settings.name, token)
}

/// [`set_cookie`] under another name, with the settings' other attributes.
pub(crate) fn set_named_cookie(
    settings: &CookieSettings,
    name: &str,
    token: Option<&str>,
) -> Option<HeaderValue> {
    let mut cookie = cookie::Cookie::new(name, token.unwrap_or_default());
    cookie.set_path(settings.path);
    cookie.set_http_only(settings.http_only);
    cookie.set_secure(settings.secure);
    cookie.set_same_site(match settings.same_site {
        SameSite::Lax => cookie::SameSite::Lax,
        SameSite::Strict => cookie::SameSite::Strict,
        SameSite::None => cookie::SameSite::None,
    });
    if let Some(domain) = settings.domain {
        cookie.set_domain(domain);
    }
    let max_age = match token {
        None => Some(0),
        Some(_) => settings.max_age,
    };
    if let Some(seconds) = max_age {
        cookie.set_max_age(cookie::time::Duration::seconds(
            i64::try_from(seconds).unwrap_or(i64::MAX),
        ));
    }
    HeaderValue::from_str(&cookie.to_string()).ok()
}

/// `Set-Cookie` for a cookie of warden's own that only its sign-in routes read (a
/// device, a second step's binding, a remembered device): `Path=/`, `HttpOnly`,
/// `SameSite=Strict` (only the application's own pages sign in), `Max-Age`, and
/// `Secure` when `secure`, which callers pair with a `__Host-` name (RFC 6265bis
/// §4.1.3.2: host-only, HTTPS only, so a sibling subdomain cannot plant one).
pub(crate) fn private_cookie(
    name: &str,
    value: String,
    secure: bool,
    max_age: i64,
) -> Option<HeaderValue> {
    let mut cookie = cookie::Cookie::new(name, value);
    cookie.set_path("/");
    cookie.set_http_only(true);
    cookie.set_secure(secure);
    cookie.set_same_site(cookie::SameSite::Strict);
    cookie.set_max_age(cookie::time::Duration::seconds(max_age));
    HeaderValue::from_str(&cookie.to_string()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(
                header::AUTHORIZATION,
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn exactly_one_bearer_header() {
        assert_eq!(bearer_token(&headers(&[b"Bearer abc"])), Some("abc"));
        assert_eq!(bearer_token(&headers(&[b"bearer abc"])), Some("abc"));
        assert_eq!(bearer_token(&headers(&[b"BEARER abc"])), Some("abc"));
        assert_eq!(bearer_token(&headers(&[])), None);
        assert_eq!(
            bearer_token(&headers(&[b"Bearer abc", b"Bearer abc"])),
            None
        );
        assert_eq!(bearer_token(&headers(&[b"Basic abc"])), None);
        assert_eq!(bearer_token(&headers(&[b"Bearer"])), None);
        assert_eq!(bearer_token(&headers(&[b"Bearer "])), None);
        assert_eq!(bearer_token(&headers(&[b"Bearer \xffabc"])), None);
    }

    #[test]
    fn exactly_one_cookie() {
        let mut map = HeaderMap::new();
        map.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; auth=tok; b=2"),
        );
        assert_eq!(cookie_token(&map, "auth"), Some("tok"));
        assert_eq!(cookie_token(&map, "missing"), None);
        map.append(header::COOKIE, HeaderValue::from_static("auth=other"));
        assert_eq!(cookie_token(&map, "auth"), None);
    }

    #[test]
    fn set_and_clear_cookie() {
        let settings = CookieSettings {
            max_age: Some(3600),
            ..CookieSettings::DEFAULT
        };
        let set = set_cookie(&settings, Some("tok")).unwrap();
        let set = set.to_str().unwrap();
        for part in [
            "fastapiusersauth=tok",
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=3600",
        ] {
            assert!(set.contains(part), "{set}");
        }
        let clear = set_cookie(&settings, None).unwrap();
        assert!(clear.to_str().unwrap().contains("Max-Age=0"));
    }
}
