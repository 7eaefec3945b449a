//! Remembered devices: after a second factor, a browser the user asked to
//! remember gets a cookie naming the user and its issue and end times, MACed with a
//! key derived for this use (`KeyPurpose::TrustedDevice`). No row per device is
//! kept: a per-user time (`devices_trusted_after`, moved by "forget devices" and by
//! any 2FA change) and the session cut-off (a password change or reset, "log out
//! everywhere") void every cookie issued before them.

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;

use crate::keyring::{KeyPurpose, Keyring, fields_mac};

/// The cookie's name without `Secure`; with it, the `__Host-` prefix (RFC 6265bis
/// §4.1.3.2: host-only, `Path=/`, HTTPS only), so a sibling subdomain cannot plant
/// one.
const NAME: &str = "warden_trusted_device";
const HOST_NAME: &str = "__Host-warden_trusted_device";

/// What the MAC covers after the fields.
const CONTEXT: &[u8] = b"warden-trusted-device-v1";

/// Makes and checks remembered-device cookies.
#[derive(Debug, Clone)]
pub(crate) struct TrustCookies {
    ring: Keyring,
    secure: bool,
}

fn mac(
    key: &[u8],
    kid: &str,
    issued: i64,
    expires: i64,
    user_id: &str,
) -> Option<hmac::Hmac<sha2::Sha256>> {
    fields_mac(
        key,
        &[
            kid.as_bytes(),
            issued.to_string().as_bytes(),
            expires.to_string().as_bytes(),
            user_id.as_bytes(),
        ],
        CONTEXT,
    )
}

impl TrustCookies {
    pub(crate) fn new(ring: Keyring, secure: bool) -> Self {
        Self { ring, secure }
    }

    fn name(&self) -> &'static str {
        if self.secure { HOST_NAME } else { NAME }
    }

    /// Whether the request carries one at all.
    pub(crate) fn presented(&self, headers: &HeaderMap) -> bool {
        crate::transport::cookie_values(headers, self.name())
            .next()
            .is_some()
    }

    /// `Set-Cookie` remembering this browser for `user_id` from `now` for
    /// `lifetime` seconds. One per browser: remembering another user replaces it.
    pub(crate) fn cookie(&self, user_id: &str, now: i64, lifetime: i64) -> Option<HeaderValue> {
        let key = self.ring.current(KeyPurpose::TrustedDevice)?;
        let expires = now.saturating_add(lifetime);
        let tag = mac(key.key.expose(), &key.kid, now, expires, user_id)?
            .finalize()
            .into_bytes();
        let value = format!(
            "{}.{now}.{expires}.{}",
            key.kid,
            URL_SAFE_NO_PAD.encode(tag)
        );
        crate::transport::private_cookie(self.name(), value, self.secure, lifetime)
    }

    /// Whether a cookie in `headers` remembers this browser for `user_id` at `now`,
    /// issued after `after`. Every cookie of the name is tried (a planted one
    /// beside the real one is ignored, never an error).
    pub(crate) fn verify(&self, headers: &HeaderMap, user_id: &str, now: i64, after: i64) -> bool {
        crate::transport::cookie_values(headers, self.name())
            .any(|value| self.verify_one(value, user_id, now, after))
    }

    fn verify_one(&self, value: &str, user_id: &str, now: i64, after: i64) -> bool {
        let mut parts = value.split('.');
        let (Some(kid), Some(issued), Some(expires), Some(tag), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return false;
        };
        let (Ok(issued), Ok(expires)) = (issued.parse::<i64>(), expires.parse::<i64>()) else {
            return false;
        };
        // The same second as a cut-off counts as before it.
        if issued <= after || now >= expires || issued > now.saturating_add(60) {
            return false;
        }
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return false;
        };
        self.ring
            .candidates(KeyPurpose::TrustedDevice, Some(kid))
            .into_iter()
            .any(|key| {
                mac(key.key.expose(), kid, issued, expires, user_id)
                    .is_some_and(|mac| mac.verify_slice(&tag).is_ok())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Secret;

    fn trust(secret: &str) -> TrustCookies {
        TrustCookies::new(Keyring::new(&Secret::from(secret)).unwrap(), true)
    }

    fn headers(set_cookie: &HeaderValue) -> HeaderMap {
        let pair = set_cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_str(&pair).unwrap(),
        );
        headers
    }

    const SECRET: &str = "a-secret-of-at-least-thirty-two-bytes!";

    #[test]
    fn a_cookie_remembers_its_user_for_its_lifetime_after_the_cutoff() {
        let cookies = trust(SECRET);
        let set = cookies.cookie("42", 1_000, 100).unwrap();
        assert!(
            set.to_str()
                .unwrap()
                .starts_with("__Host-warden_trusted_device=")
        );
        let sent = headers(&set);
        assert!(cookies.presented(&sent));
        assert!(cookies.verify(&sent, "42", 1_050, 0));
        // Another user, past its end, or voided by a later cut-off.
        assert!(!cookies.verify(&sent, "43", 1_050, 0));
        assert!(!cookies.verify(&sent, "42", 1_100, 0));
        assert!(!cookies.verify(&sent, "42", 1_050, 1_000));
        // Another secret's cookie, or a tampered one.
        assert!(!trust("another-secret-of-at-least-32-bytes!!").verify(&sent, "42", 1_050, 0));
        let tampered = set.to_str().unwrap().replacen(".1000.", ".1001.", 1);
        assert!(!cookies.verify(
            &headers(&HeaderValue::from_str(&tampered).unwrap()),
            "42",
            1_050,
            0
        ));
    }
}
