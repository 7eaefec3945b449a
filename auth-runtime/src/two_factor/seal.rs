//! TOTP secrets at rest, sealed as [`crate::aead`] seals values: AES-256-GCM under
//! the key [`KeyPurpose::SecondFactorSecret`] derives, stored as
//! `v1.{kid}.{base64url(nonce ‖ ciphertext ‖ tag)}`, with the user's id in the
//! associated data, so a secret copied into another user's row does not open
//! there. A read of the database alone yields no secret (ASVS 5.0 6.4.x: the
//! authenticator's secret is protected at rest), and the kid lets the key rotate:
//! a secret sealed under a previous secret of the ring opens while that secret is
//! configured.

use crate::aead::{self, KeyedCipher};
use crate::keyring::{KeyPurpose, Keyring};

pub use crate::aead::SealError;

/// The format's version: what this module writes.
const PREFIX: &str = "v1.";

/// The associated data: a fixed context (no other sealed value of warden opens as
/// a TOTP secret) and the user id it belongs to. The context ends in a separator
/// no prefix of an id can forge, so the pair reads one way only.
fn aad(user_id: &str) -> Vec<u8> {
    let mut aad = b"warden/totp-secret\0".to_vec();
    aad.extend_from_slice(user_id.as_bytes());
    aad
}

/// `secret` sealed for the user `user_id` under the ring's current key.
///
/// ```text
/// let sealed = seal_secret(&ring, "user-1", &secret)?;
/// assert_eq!(open_secret(&ring, "user-1", &sealed), Some(secret));
/// ```
// `Keyring` is crate-private, so it is too.
pub(crate) fn seal_secret(
    ring: &Keyring,
    user_id: &str,
    secret: &[u8],
) -> Result<String, SealError> {
    let cipher =
        KeyedCipher::current(ring, KeyPurpose::SecondFactorSecret).ok_or(SealError::Key)?;
    Ok(format!("{PREFIX}{}", cipher.seal(secret, &aad(user_id))?))
}

/// The secret `sealed` holds for the user `user_id`: opened under the key of the
/// ring its kid names (the current one, or a previous one after a rotation).
/// `None` if that key left the ring, it was sealed for another user, or it was
/// changed.
// `Keyring` is crate-private, so it is too.
pub(crate) fn open_secret(ring: &Keyring, user_id: &str, sealed: &str) -> Option<Vec<u8>> {
    let rest = sealed.strip_prefix(PREFIX)?;
    let (kid, _) = rest.split_once('.')?;
    let ciphers: Vec<KeyedCipher> = ring
        .candidates(KeyPurpose::SecondFactorSecret, Some(kid))
        .iter()
        .filter_map(KeyedCipher::new)
        .collect();
    aead::open(&ciphers, rest, &aad(user_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"12345678901234567890";

    use crate::keyring::test_ring as ring;

    const A: &str = "the-first-secret-of-at-least-32-bytes";
    const B: &str = "the-second-secret-of-at-least-32-bytes";

    #[test]
    fn round_trip() {
        let ring = ring(&[A]);
        let sealed = seal_secret(&ring, "user-1", SECRET).unwrap();
        assert!(sealed.starts_with("v1."));
        assert_eq!(sealed.split('.').count(), 3);
        assert!(!sealed.contains("GEZDGNBV") && !sealed.contains("1234"));
        assert_ne!(sealed, seal_secret(&ring, "user-1", SECRET).unwrap());
        assert_eq!(open_secret(&ring, "user-1", &sealed).unwrap(), SECRET);
    }

    #[test]
    fn another_user_id_does_not_open_it() {
        let ring = ring(&[A]);
        let sealed = seal_secret(&ring, "1", SECRET).unwrap();
        for other in ["2", "11", "", "1\0", "user-1"] {
            assert_eq!(open_secret(&ring, other, &sealed), None, "{other:?}");
        }
    }

    #[test]
    fn a_changed_value_does_not_open() {
        let ring = ring(&[A]);
        let sealed = seal_secret(&ring, "user-1", SECRET).unwrap();
        let (head, body) = sealed.rsplit_once('.').unwrap();
        // Every single-character change of the body, and truncations.
        for at in 0..body.len() {
            let mut bytes = body.as_bytes().to_vec();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let changed = format!("{head}.{}", String::from_utf8(bytes).unwrap());
            assert_eq!(open_secret(&ring, "user-1", &changed), None, "at {at}");
        }
        for cut in [0, 10, body.len() - 1] {
            let cut = format!("{head}.{}", &body[..cut]);
            assert_eq!(open_secret(&ring, "user-1", &cut), None);
        }
        for junk in [
            "",
            "v1.",
            "v1..",
            "v2.x.y",
            &sealed.replacen("v1.", "v2.", 1),
            &sealed.replacen("v1.", "", 1),
            "v1.unknownkid.AAAA",
        ] {
            assert_eq!(open_secret(&ring, "user-1", junk), None, "{junk:?}");
        }
    }

    #[test]
    fn a_rotated_ring_opens_what_the_previous_secret_sealed() {
        let sealed = seal_secret(&ring(&[A]), "user-1", SECRET).unwrap();
        let rotated = ring(&[B, A]);
        assert_eq!(open_secret(&rotated, "user-1", &sealed).unwrap(), SECRET);
        let resealed = seal_secret(&rotated, "user-1", SECRET).unwrap();
        assert_ne!(
            resealed.split('.').nth(1),
            sealed.split('.').nth(1),
            "new values name the new key"
        );
        assert_eq!(open_secret(&rotated, "user-1", &resealed).unwrap(), SECRET);
        // Once the old secret leaves the ring its values no longer open.
        assert_eq!(open_secret(&ring(&[B]), "user-1", &sealed), None);
    }

    #[test]
    fn a_provider_token_sealer_opens_no_totp_secret() {
        // Same secret, other purpose: another key, even under the same kid.
        let ring = ring(&[A]);
        let sealed = seal_secret(&ring, "user-1", SECRET).unwrap();
        let rest = sealed.strip_prefix("v1.").unwrap();
        let oauth = KeyedCipher::current(&ring, KeyPurpose::OAuthTokenSealing).unwrap();
        assert_eq!(aead::open([&oauth], rest, &aad("user-1")), None);
    }
}
