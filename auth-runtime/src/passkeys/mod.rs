//! Passkeys (WebAuthn Level 3) on webauthn-rs: the configuration
//! ([`Passkeys`], checked at `build()`), the ceremonies with their state kept on
//! the server only, and the JSON the browser exchanges (Level 3's
//! `parseCreationOptionsFromJSON` / `toJSON()` shapes, base64url strings).
//!
//! webauthn-rs' guidance is the rule here: ceremony state never leaves the
//! server, user verification is required (a passkey is then two factors: the
//! device and the PIN or biometric that unlocks it), a credential id belongs to
//! one account, and the counter and backup state are updated after every use.

mod ceremony;

use std::time::Duration;

use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

use crate::error::ConfigError;
use crate::keyring::{KeyPurpose, Keyring};
use crate::token::Secret;

pub(crate) use ceremony::{
    Begun, CeremonyError, Kind, LoginStart, challenge_key, decode, passkey_json,
};

/// How long a ceremony's challenge is accepted: WebAuthn's recommended
/// authenticator timeout (Level 3 §15.1, five minutes), which the options also
/// ask the browser for.
pub(crate) const CEREMONY_SECONDS: i64 = 300;

/// The longest name a passkey may be given.
pub(crate) const MAX_NAME_CHARS: usize = 64;

/// Passkeys (WebAuthn): the relying party warden is to authenticators, for
/// `WardenBuilder::passkeys`.
///
/// The RP ID is the domain passkeys are bound to: a registrable suffix of every
/// origin (`example.com` for `https://app.example.com`), never an IP address. It
/// can never change: passkeys made for one RP ID never work with another. Origins
/// are the pages' origins exactly as browsers send them (`https://app.example.com`,
/// `http://localhost:8000` in development: plain HTTP only for localhost).
///
/// ```
/// use warden_runtime::passkeys::Passkeys;
/// let passkeys = Passkeys::new("example.com", ["https://app.example.com"], "Example")
///     .secret("a-secret-of-at-least-thirty-two-bytes!")
///     .discoverable(true);
/// assert!(passkeys.check().is_ok());
/// let ip = Passkeys::new("127.0.0.1", ["https://127.0.0.1"], "Example")
///     .secret("a-secret-of-at-least-thirty-two-bytes!");
/// assert!(ip.check().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Passkeys {
    rp_id: String,
    origins: Vec<String>,
    rp_name: String,
    discoverable: bool,
    signup: bool,
    secret: Option<Secret>,
}

impl Passkeys {
    /// Passkeys for the RP ID `rp_id`, used from the pages of `origins`, shown to
    /// users as `rp_name`.
    pub fn new<I, S>(rp_id: impl Into<String>, origins: I, rp_name: impl Into<String>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            rp_id: rp_id.into(),
            origins: origins
                .into_iter()
                .map(|origin| origin.into().trim_end_matches('/').to_owned())
                .collect(),
            rp_name: rp_name.into(),
            discoverable: false,
            signup: false,
            secret: None,
        }
    }

    /// Whether `POST /auth/{name}/passkey/options` also takes `{}` (no login):
    /// the browser then offers the passkeys it holds for the site (conditional
    /// UI, "discoverable credentials"), and registrations ask authenticators to
    /// keep a discoverable credential. Off by default, as webauthn-rs advises:
    /// authenticators hold few of them, and some browsers handle them poorly.
    pub fn discoverable(mut self, on: bool) -> Self {
        self.discoverable = on;
        self
    }

    /// Whether `POST /auth/register/passkey/options` and `POST
    /// /auth/register/passkey` create accounts from a passkey alone (no password;
    /// the stored hash is a locked marker no password matches). Off by default.
    pub fn signup(mut self, on: bool) -> Self {
        self.signup = on;
        self
    }

    /// The secret (at least 32 bytes, the same on every instance) that the decoy
    /// credential ids for unknown logins derive from (HKDF, label
    /// `warden/passkey-decoy`): an unknown login's options must look the same on
    /// every request and every instance, as a real user's do. Required.
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Checks the configuration as `build()` does: one line naming the fix.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.service().map(|_| ())
    }

    /// The ceremonies of this configuration.
    pub(crate) fn service(&self) -> Result<PasskeyService, ConfigError> {
        let fail = |problem: String| ConfigError::Mismatch(format!("passkeys: {problem}"));
        let rp_id = self.rp_id.as_str();
        if rp_id.parse::<std::net::IpAddr>().is_ok()
            || rp_id
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok()
        {
            return Err(fail(format!(
                "the RP ID \"{rp_id}\" is an IP address, which WebAuthn never accepts: serve the pages at a domain name (localhost in development) and give that"
            )));
        }
        let domain_like = !rp_id.is_empty()
            && rp_id == rp_id.to_ascii_lowercase()
            && rp_id.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !domain_like || (!rp_id.contains('.') && rp_id != "localhost") {
            return Err(fail(format!(
                "the RP ID \"{rp_id}\" is not a registrable domain: give the site's domain in lower case, without scheme, port or path (\"example.com\")"
            )));
        }
        if self.origins.is_empty() {
            return Err(fail(format!(
                "no origin: give the pages' origins, e.g. Passkeys::new(\"{rp_id}\", [\"https://{rp_id}\"], ...)"
            )));
        }
        let mut origins = Vec::with_capacity(self.origins.len());
        for origin in &self.origins {
            let url = Url::parse(origin)
                .ok()
                .filter(|url| {
                    url.path() == "/" && url.query().is_none() && url.fragment().is_none()
                })
                .filter(|url| url.username().is_empty() && url.password().is_none());
            let Some(url) = url else {
                return Err(fail(format!(
                    "the origin \"{origin}\" is not an origin: write scheme, host and port only (\"https://{rp_id}\")"
                )));
            };
            let host = url.host_str().unwrap_or_default();
            match url.scheme() {
                "https" => {}
                // Browsers treat localhost and its subdomains as secure contexts.
                "http" if host == "localhost" || host.ends_with(".localhost") => {}
                _ => {
                    return Err(fail(format!(
                        "the origin \"{origin}\" is not https: browsers allow passkeys on https origins and http://localhost only"
                    )));
                }
            }
            if url.domain().is_none() {
                return Err(fail(format!(
                    "the origin \"{origin}\" has an IP address: WebAuthn needs a domain name (localhost in development)"
                )));
            }
            if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
                return Err(fail(format!(
                    "the RP ID \"{rp_id}\" is not a registrable suffix of the origin \"{origin}\": give the origin's domain or a parent of it as the RP ID"
                )));
            }
            origins.push(url);
        }
        let Some(secret) = &self.secret else {
            return Err(fail(
                "no secret for decoy credential ids: add .secret(...) with at least 32 bytes, the same on every instance".into(),
            ));
        };
        let decoys = Keyring::new(secret)
            .ok_or_else(|| fail("the secret needs at least 32 bytes".into()))?;
        let mut builder = WebauthnBuilder::new(rp_id, &origins[0])
            .map_err(|error| fail(format!("webauthn-rs refused the RP ID and origin: {error}")))?
            .rp_name(&self.rp_name)
            .timeout(Duration::from_secs(CEREMONY_SECONDS.unsigned_abs()));
        for origin in &origins[1..] {
            builder = builder.append_allowed_origin(origin);
        }
        let webauthn = builder
            .build()
            .map_err(|error| fail(format!("webauthn-rs refused the configuration: {error}")))?;
        let decoy_key = decoys
            .current(KeyPurpose::PasskeyDecoy)
            .ok_or_else(|| fail("the secret needs at least 32 bytes".into()))?;
        Ok(PasskeyService {
            webauthn,
            discoverable: self.discoverable,
            signup: self.signup,
            decoy_key: decoy_key.key,
        })
    }
}

/// The passkey ceremonies a warden runs: its relying party, and the key of its
/// decoy credential ids.
pub(crate) struct PasskeyService {
    pub(crate) webauthn: Webauthn,
    pub(crate) discoverable: bool,
    pub(crate) signup: bool,
    decoy_key: Secret,
}

impl std::fmt::Debug for PasskeyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyService")
            .field("discoverable", &self.discoverable)
            .field("signup", &self.signup)
            .finish_non_exhaustive()
    }
}

/// Passkeys as a warden runs them: the ceremonies and the store.
pub(crate) struct Enabled {
    pub(crate) service: PasskeyService,
    pub(crate) store: std::sync::Arc<dyn crate::store::PasskeyStore>,
}

/// `client.js`: the browser side, served at `GET /auth/passkeys/client.js`.
pub(crate) const CLIENT_JS: &str = include_str!("client.js");

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-secret-of-at-least-thirty-two-bytes!";

    fn error(rp_id: &str, origins: &[&str]) -> String {
        Passkeys::new(rp_id, origins.iter().copied(), "Example")
            .secret(SECRET)
            .check()
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn good_configurations_build() {
        for (rp_id, origins) in [
            ("example.com", vec!["https://example.com"]),
            (
                "example.com",
                vec!["https://app.example.com", "https://example.com:8443/"],
            ),
            ("localhost", vec!["http://localhost:3000"]),
            (
                "app.localhost",
                vec!["http://app.localhost:3000", "https://app.localhost"],
            ),
        ] {
            assert_eq!(error(rp_id, &origins), "", "{rp_id} {origins:?}");
        }
    }

    #[test]
    fn each_misconfiguration_stops_build_with_one_line_naming_the_fix() {
        let cases: [(&str, &[&str], &str); 8] = [
            ("127.0.0.1", &["https://127.0.0.1"], "is an IP address"),
            ("::1", &["https://[::1]"], "is an IP address"),
            ("example.com", &[], "no origin"),
            ("example.com", &["http://example.com"], "is not https"),
            (
                "example.com",
                &["https://example.org"],
                "not a registrable suffix",
            ),
            (
                "example.com",
                &["https://badexample.com"],
                "not a registrable suffix",
            ),
            (
                "https://example.com",
                &["https://example.com"],
                "not a registrable domain",
            ),
            ("com", &["https://example.com"], "not a registrable domain"),
        ];
        for (rp_id, origins, says) in cases {
            let error = error(rp_id, origins);
            assert!(error.contains(says), "{rp_id} {origins:?}: {error}");
            assert!(!error.contains('\n'), "{error}");
        }
        let unkeyed = Passkeys::new("example.com", ["https://example.com"], "Example").check();
        assert!(unkeyed.is_err_and(|e| e.to_string().contains(".secret(")));
        let short = Passkeys::new("example.com", ["https://example.com"], "Example")
            .secret("short")
            .check();
        assert!(short.is_err_and(|e| e.to_string().contains("32 bytes")));
        assert!(error("example.com", &["https://example.com/app"]).contains("is not an origin"));
    }
}
