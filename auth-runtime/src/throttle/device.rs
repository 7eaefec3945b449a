//! Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"):
//! a browser that signed in to an account with its password gets a cookie naming
//! that account and a random device id, MACed with a key derived from the device
//! cookie secret (`KeyPurpose::DeviceCookie`). A login to that account presenting
//! it is a *trusted* client: others' failures (the account's and the address's
//! counts) do not refuse it, and its own failures meet a small limit of their own
//! per device. It ends when its lifetime does, and with the user's session cut-off
//! (a password change or reset, "log out everywhere", a deactivation): the cut-off
//! is the per-user generation, so no row per device is kept.

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::keyring::{KeyPurpose, Keyring};

/// The cookie's name without a `Secure` attribute; with one it takes the
/// `__Host-` prefix (RFC 6265bis §4.1.3.2: host-only, `Path=/`, set over HTTPS
/// only), so that a sibling subdomain cannot plant or overwrite it.
const NAME: &str = "warden_device";
const HOST_NAME: &str = "__Host-warden_device";

/// What the MAC covers before the fields: a version, so that another format never
/// verifies as this one.
const CONTEXT: &[u8] = b"warden-device-v1";

/// A device cookie that verified for the account that is logging in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Device {
    /// The random device id (base64url of 16 bytes): its failures are counted under it.
    pub(crate) id: String,
}

/// Makes and reads device cookies.
#[derive(Debug, Clone)]
pub(crate) struct DeviceCookies {
    ring: Keyring,
    /// Seconds a cookie lives.
    lifetime: i64,
    secure: bool,
}

fn mac(key: &[u8], kid: &str, id: &str, issued: i64, user_id: &str) -> Option<Hmac<Sha256>> {
    crate::keyring::fields_mac(
        key,
        &[
            kid.as_bytes(),
            id.as_bytes(),
            issued.to_string().as_bytes(),
            user_id.as_bytes(),
        ],
        CONTEXT,
    )
}

impl DeviceCookies {
    pub(crate) fn new(ring: Keyring, lifetime: i64, secure: bool) -> Self {
        Self {
            ring,
            lifetime,
            secure,
        }
    }

    fn name(&self) -> &'static str {
        if self.secure { HOST_NAME } else { NAME }
    }

    /// The device cookie in `headers` that verifies for `user_id`, issued after the
    /// user's `cutoff` and not older than its lifetime at `now`. A request may carry
    /// several (a shared browser, a planted one): each is tried, and any that does
    /// not verify is ignored, never an error.
    pub(crate) fn read(
        &self,
        headers: &HeaderMap,
        user_id: &str,
        cutoff: Option<i64>,
        now: i64,
    ) -> Option<Device> {
        crate::transport::cookie_values(headers, self.name())
            .find_map(|value| self.verify(value, user_id, cutoff, now))
    }

    /// Whether `headers` carry a device cookie at all: only then is it worth
    /// reading the user's cut-off to verify one.
    pub(crate) fn presented(&self, headers: &HeaderMap) -> bool {
        crate::transport::cookie_values(headers, self.name())
            .next()
            .is_some()
    }

    fn verify(&self, value: &str, user_id: &str, cutoff: Option<i64>, now: i64) -> Option<Device> {
        let mut parts = value.split('.');
        let (kid, id, issued, tag) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || id.len() != 22 {
            return None;
        }
        let issued: i64 = issued.parse().ok()?;
        // Issued after the cut-off (a password change, "log out everywhere") and
        // within its lifetime; the same second as a cut-off counts as before it.
        if cutoff.is_some_and(|cutoff| issued <= cutoff)
            || issued > now.saturating_add(60)
            || now.saturating_sub(issued) >= self.lifetime
        {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        // The key the cookie names (one rotated out still verifies, RFC 5869 labels
        // keep it apart from every other use of the secret); verify_slice compares
        // in constant time.
        self.ring
            .candidates(KeyPurpose::DeviceCookie, Some(kid))
            .into_iter()
            .any(|key| {
                mac(key.key.expose(), kid, id, issued, user_id)
                    .is_some_and(|mac| mac.verify_slice(&tag).is_ok())
            })
            .then(|| Device { id: id.to_owned() })
    }

    /// `Set-Cookie` with a device cookie for `user_id` issued at `now`: the same
    /// device id as the one presented (its failure count goes on), or a new one.
    pub(crate) fn issue(
        &self,
        user_id: &str,
        device: Option<&Device>,
        now: i64,
    ) -> Option<HeaderValue> {
        let id = match device {
            Some(device) => device.id.clone(),
            None => crate::random::urlsafe::<16>().ok()?,
        };
        let key = self.ring.current(KeyPurpose::DeviceCookie)?;
        let tag = mac(key.key.expose(), &key.kid, &id, now, user_id)?
            .finalize()
            .into_bytes();
        let value = format!("{}.{id}.{now}.{}", key.kid, URL_SAFE_NO_PAD.encode(tag));
        crate::transport::private_cookie(self.name(), value, self.secure, self.lifetime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Secret;

    fn cookies(secret: &str) -> DeviceCookies {
        DeviceCookies::new(Keyring::new(&Secret::from(secret)).unwrap(), 1000, true)
    }

    fn headers(set_cookie: &HeaderValue) -> HeaderMap {
        let pair = set_cookie.to_str().unwrap().split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(axum::http::header::COOKIE, pair.parse().unwrap());
        headers
    }

    #[test]
    fn a_device_cookie_verifies_only_for_its_user_key_and_time() {
        let jar = cookies("a-device-cookie-secret-of-32-bytes!!");
        let set = jar.issue("u1", None, 100).unwrap();
        let text = set.to_str().unwrap();
        assert!(text.starts_with("__Host-warden_device="), "{text}");
        for attribute in [
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=1000",
        ] {
            assert!(text.contains(attribute), "{text}");
        }
        let sent = headers(&set);
        let device = jar.read(&sent, "u1", None, 200).unwrap();
        assert_eq!(device.id.len(), 22);
        // Another user, a cut-off at or after its issue, its end, another secret.
        assert_eq!(jar.read(&sent, "u2", None, 200), None);
        assert_eq!(jar.read(&sent, "u1", Some(100), 200), None);
        assert_eq!(jar.read(&sent, "u1", Some(99), 200), Some(device.clone()));
        assert_eq!(jar.read(&sent, "u1", None, 1100), None);
        assert_eq!(
            cookies("another-device-secret-of-32-bytes!!!").read(&sent, "u1", None, 200),
            None
        );
        // Re-issued for the same device, the id stays.
        let again = jar.issue("u1", Some(&device), 150).unwrap();
        assert_eq!(jar.read(&headers(&again), "u1", None, 200), Some(device));
    }
}
