//! Provider tokens at rest, sealed as [`crate::aead`] seals values: AES-256-GCM
//! under a key derived from the application's token key
//! ([`KeyPurpose::OAuthTokenSealing`]), a fresh random nonce per value, stored as
//! `v2.` + kid + `.` + base64url(nonce ‖ ciphertext ‖ tag), and bound to its row
//! (the provider account) as associated data, so a value copied to another row does
//! not open. The kid names the secret it was sealed under, so a value sealed before
//! a rotation opens while that secret is in the ring.
//!
//! Values of the first format, `v1.` + base64url(...), were sealed under the raw
//! 32-byte token key: they still open (under each configured key of 32 bytes), and
//! are never written again.

use aes_gcm::Aes256Gcm;

use crate::aead::{self, KeyedCipher};
use crate::keyring::{KeyPurpose, Keyring};
use crate::token::Secret;

const PREFIX: &str = "v2.";
const LEGACY_PREFIX: &str = "v1.";

/// Seals and opens provider tokens.
pub(crate) struct Sealer {
    /// The current key's cipher.
    current: KeyedCipher,
    /// The previous secrets' ciphers.
    previous: Vec<KeyedCipher>,
    /// Ciphers of the raw 32-byte secrets, for `v1.` values.
    legacy: Vec<Aes256Gcm>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([REDACTED])")
    }
}

impl Sealer {
    /// A sealer of `ring`, opening `v1.` values with those of `raw` (the ring's
    /// configured secrets) that are 32 bytes; `None` only if a derived key is
    /// refused (they are 32 bytes, AES-256's length).
    pub(crate) fn new(ring: &Keyring, raw: &[&Secret]) -> Option<Self> {
        let mut keys = KeyedCipher::all(ring, KeyPurpose::OAuthTokenSealing)?.into_iter();
        Some(Self {
            current: keys.next()?,
            previous: keys.collect(),
            legacy: raw
                .iter()
                .filter_map(|key| aead::raw(key.expose()))
                .collect(),
        })
    }

    /// `value` sealed for the row `context`.
    pub(crate) fn seal(&self, value: &str, context: &str) -> Result<String, String> {
        let sealed = self
            .current
            .seal(value.as_bytes(), context.as_bytes())
            .map_err(|error| error.to_string())?;
        Ok(format!("{PREFIX}{sealed}"))
    }

    /// The value `sealed` holds for the row `context`; `None` if it was sealed under
    /// a key no longer (or never) in the ring or for another row, or is not a sealed
    /// value (FastAPI Users' clear tokens).
    pub(crate) fn open(&self, sealed: &str, context: &str) -> Option<String> {
        let opened = if let Some(rest) = sealed.strip_prefix(PREFIX) {
            aead::open(
                std::iter::once(&self.current).chain(&self.previous),
                rest,
                context.as_bytes(),
            )?
        } else {
            let body = sealed.strip_prefix(LEGACY_PREFIX)?;
            self.legacy
                .iter()
                .find_map(|cipher| aead::open_body(cipher, body, context.as_bytes()))?
        };
        String::from_utf8(opened).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(secrets: &[&str]) -> Sealer {
        let secrets: Vec<Secret> = secrets.iter().map(|s| Secret::from(*s)).collect();
        let mut ring = Keyring::new(&secrets[0]).unwrap();
        for old in &secrets[1..] {
            ring = ring.previous(old).unwrap();
        }
        let raw: Vec<&Secret> = secrets.iter().collect();
        Sealer::new(&ring, &raw).unwrap()
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_row() {
        let k = "k".repeat(32);
        let sealer = sealer(&[&k]);
        let sealed = sealer.seal("gho_token", "github:1").unwrap();
        assert!(sealed.starts_with("v2.") && !sealed.contains("gho_token"));
        assert_ne!(sealed, sealer.seal("gho_token", "github:1").unwrap());
        assert_eq!(
            sealer.open(&sealed, "github:1").as_deref(),
            Some("gho_token")
        );
        assert_eq!(sealer.open(&sealed, "github:2"), None);
        let other = self::sealer(&[&"o".repeat(32)]);
        assert_eq!(other.open(&sealed, "github:1"), None);
        assert_eq!(sealer.open("gho_clear_token", "github:1"), None);
        assert_eq!(sealer.open("v2.nokid", "github:1"), None);
        assert!(Keyring::new(&Secret::from("short")).is_none());
    }

    #[test]
    fn a_rotation_opens_old_values_and_a_wrong_kid_fails() {
        let (old, new) = ("o".repeat(32), "n".repeat(40));
        let sealed = sealer(&[&old]).seal("gho_token", "github:1").unwrap();
        let rotated = sealer(&[&new, &old]);
        assert_eq!(
            rotated.open(&sealed, "github:1").as_deref(),
            Some("gho_token")
        );
        let resealed = rotated.seal("gho_token", "github:1").unwrap();
        assert_ne!(
            resealed.split('.').nth(1),
            sealed.split('.').nth(1),
            "new values name the new key"
        );
        // Once the old secret is removed its values no longer open.
        assert_eq!(sealer(&[&new]).open(&sealed, "github:1"), None);
        // A value naming another key is not tried under this one.
        let (_, body) = sealed.strip_prefix("v2.").unwrap().split_once('.').unwrap();
        let current_kid = resealed.split('.').nth(1).unwrap();
        assert_eq!(
            rotated.open(&format!("v2.{current_kid}.{body}"), "github:1"),
            None
        );
    }

    #[test]
    fn first_format_values_still_open_under_the_raw_key() {
        use aes_gcm::Nonce;
        use aes_gcm::aead::{Aead, Payload};
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;

        let key = "k".repeat(32);
        let raw = aead::raw(key.as_bytes()).unwrap();
        let mut nonce = [7u8; 12];
        nonce[0] = 1;
        let mut bytes = nonce.to_vec();
        bytes.extend(
            raw.encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: b"gho_old",
                    aad: b"github:1",
                },
            )
            .unwrap(),
        );
        let v1 = format!("v1.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(
            sealer(&[&key]).open(&v1, "github:1").as_deref(),
            Some("gho_old")
        );
        assert_eq!(sealer(&[&key]).open(&v1, "github:2"), None);
        assert_eq!(sealer(&[&"n".repeat(32)]).open(&v1, "github:1"), None);
    }
}
