//! Values sealed at rest under the keyring's keys: AES-256-GCM (NIST SP 800-38D)
//! with a key derived for one purpose, a fresh random 96-bit nonce per value, and
//! associated data naming the row the value belongs to, so a value copied to
//! another row does not open.
//!
//! A sealed value reads `{kid}.{base64url(nonce ‖ ciphertext ‖ tag)}`: the kid names
//! the secret of the ring it was sealed under, so a value sealed before a rotation
//! opens while that secret is in the ring, and is tried under that key only. Each
//! use puts its own version prefix in front (`v2.` for provider tokens, `v1.` for
//! TOTP secrets).
//!
//! Random nonces are safe here: SP 800-38D §8.3 bounds a key to 2^32 random-nonce
//! encryptions, and a key seals one value per OAuth login or TOTP enrolment.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::keyring::{DerivedKey, KeyPurpose, Keyring};

/// Bytes of an AES-GCM nonce (SP 800-38D §5.2.1.1: 96 bits is the length of choice).
const NONCE_BYTES: usize = 12;

/// Why a value could not be sealed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The operating system gave no randomness for the nonce.
    #[error("no randomness: {0}")]
    Randomness(String),
    /// No key could be derived (HKDF refused, which it does not for 32 bytes).
    #[error("no sealing key")]
    Key,
    /// AES-GCM refused to encrypt (a value over its 64 GiB limit).
    #[error("sealing failed")]
    Cipher,
}

/// A derived key ready to seal and open, with the id of its secret.
pub(crate) struct KeyedCipher {
    /// The key id (public).
    pub(crate) kid: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for KeyedCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedCipher")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl KeyedCipher {
    /// The cipher of `key`; `None` if it is not 32 bytes (derived keys are).
    pub(crate) fn new(key: &DerivedKey) -> Option<Self> {
        Some(Self {
            kid: key.kid.clone(),
            cipher: raw(key.key.expose())?,
        })
    }

    /// The ring's current cipher for `purpose`: what seals new values.
    pub(crate) fn current(ring: &Keyring, purpose: KeyPurpose) -> Option<Self> {
        Self::new(&ring.current(purpose)?)
    }

    /// Every cipher of the ring for `purpose`, the current first.
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) fn all(ring: &Keyring, purpose: KeyPurpose) -> Option<Vec<Self>> {
        ring.all(purpose).iter().map(Self::new).collect()
    }

    /// `plaintext` sealed for the row `aad`: `{kid}.{body}`.
    pub(crate) fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<String, SealError> {
        Ok(format!(
            "{}.{}",
            self.kid,
            seal_body(&self.cipher, plaintext, aad)?
        ))
    }
}

/// An AES-256 cipher of a raw 32-byte key.
pub(crate) fn raw(key: &[u8]) -> Option<Aes256Gcm> {
    Aes256Gcm::new_from_slice(key).ok()
}

/// base64url(nonce ‖ ciphertext ‖ tag) of `plaintext` for the row `aad`.
pub(crate) fn seal_body(
    cipher: &Aes256Gcm,
    plaintext: &[u8],
    aad: &[u8],
) -> Result<String, SealError> {
    let nonce = crate::random::bytes::<NONCE_BYTES>().map_err(SealError::Randomness)?;
    let sealed = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| SealError::Cipher)?;
    let mut bytes = nonce.to_vec();
    bytes.extend(sealed);
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What base64url(nonce ‖ ciphertext ‖ tag) holds for the row `aad` under `cipher`;
/// `None` if it is malformed, or was sealed under another key or for another row
/// (the tag does not verify).
pub(crate) fn open_body(cipher: &Aes256Gcm, body: &str, aad: &[u8]) -> Option<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD.decode(body).ok()?;
    if bytes.len() < NONCE_BYTES {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
    let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
    cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
}

/// What `{kid}.{body}` holds for the row `aad`, opened with the one of `ciphers`
/// its kid names; `None` when none has that kid (a secret rotated out, or a
/// forged kid), or it does not open.
pub(crate) fn open<'a>(
    ciphers: impl IntoIterator<Item = &'a KeyedCipher>,
    sealed: &str,
    aad: &[u8],
) -> Option<Vec<u8>> {
    let (kid, body) = sealed.split_once('.')?;
    let keyed = ciphers.into_iter().find(|keyed| keyed.kid == kid)?;
    open_body(&keyed.cipher, body, aad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Secret;

    fn ring(secret: &str) -> Keyring {
        Keyring::new(&Secret::from(secret)).unwrap()
    }

    #[test]
    fn a_value_opens_under_its_key_and_row_only() {
        let ring = ring(&"k".repeat(32));
        let cipher = KeyedCipher::current(&ring, KeyPurpose::SecondFactorSecret).unwrap();
        let sealed = cipher.seal(b"value", b"row-1").unwrap();
        assert!(sealed.starts_with(&format!("{}.", cipher.kid)));
        assert_ne!(
            sealed,
            cipher.seal(b"value", b"row-1").unwrap(),
            "fresh nonce"
        );
        assert_eq!(open([&cipher], &sealed, b"row-1").unwrap(), b"value");
        assert_eq!(open([&cipher], &sealed, b"row-2"), None);
        // Another purpose of the same secret is another key.
        let other = KeyedCipher::current(&ring, KeyPurpose::OAuthTokenSealing).unwrap();
        assert_eq!(other.kid, cipher.kid);
        assert_eq!(open([&other], &sealed, b"row-1"), None);
        assert_eq!(open([&cipher], "no-dot", b"row-1"), None);
        assert_eq!(
            open([&cipher], &format!("{}.@@", cipher.kid), b"row-1"),
            None
        );
        assert_eq!(
            open([&cipher], &format!("{}.AAAA", cipher.kid), b"row-1"),
            None
        );
        let printed = format!("{cipher:?}");
        assert!(printed.contains(&cipher.kid) && !printed.contains("cipher:"));
    }
}
