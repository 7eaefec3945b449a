//! Finding the token in a request.

use axum::http::{HeaderMap, header};

/// The bearer token of a request: the one `Authorization` header, scheme `Bearer`
/// (any case, as RFC 7235 and FastAPI's `OAuth2PasswordBearer` allow), one space,
/// then the token.
///
/// `None` when absent or malformed, and when the header appears more than once:
/// FastAPI takes the first, which lets a proxy and a client disagree about who is
/// calling (SECURITY.md item 11). Tokens in the query string are never read.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

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
}
