//! Provider tokens at rest: AES-256-GCM under the application's key, a fresh random
//! nonce per value, stored as `v1.` + base64url(nonce ‖ ciphertext ‖ tag), and bound
//! to its row (the provider account) as associated data, so a value copied to
//! another row does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::token::Secret;

const PREFIX: &str = "v1.";

/// Seals and opens provider tokens.
pub(crate) struct Sealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([REDACTED])")
    }
}

impl Sealer {
    /// A sealer with a 32-byte key; `None` for another length.
    pub(crate) fn new(key: &Secret) -> Option<Self> {
        Aes256Gcm::new_from_slice(key.expose())
            .ok()
            .map(|cipher| Self { cipher })
    }

    /// `value` sealed for the row `context`.
    pub(crate) fn seal(&self, value: &str, context: &str) -> Result<String, String> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|error| format!("no randomness: {error}"))?;
        let sealed = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: value.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| "sealing failed".to_owned())?;
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The value `sealed` holds for the row `context`; `None` if it was sealed under
    /// another key or row, or is not a sealed value (FastAPI Users' clear tokens).
    pub(crate) fn open(&self, sealed: &str, context: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let opened = self
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(opened).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_row() {
        let sealer = Sealer::new(&Secret::from("k".repeat(32))).unwrap();
        let sealed = sealer.seal("gho_token", "github:1").unwrap();
        assert!(sealed.starts_with("v1.") && !sealed.contains("gho_token"));
        assert_ne!(sealed, sealer.seal("gho_token", "github:1").unwrap());
        assert_eq!(
            sealer.open(&sealed, "github:1").as_deref(),
            Some("gho_token")
        );
        assert_eq!(sealer.open(&sealed, "github:2"), None);
        let other = Sealer::new(&Secret::from("o".repeat(32))).unwrap();
        assert_eq!(other.open(&sealed, "github:1"), None);
        assert_eq!(sealer.open("gho_clear_token", "github:1"), None);
        assert!(Sealer::new(&Secret::from("short")).is_none());
    }
}
