//! The one derivation of warden's private keys: HKDF-SHA256 (RFC 5869) from a
//! configured secret, one label per use, and a key id so that keys rotate.
//!
//! What warden alone reads (the OAuth state, the hash of its CSRF cookie, its PKCE
//! verifier and nonce, sealed provider tokens, the reset token's password
//! fingerprint, device cookies, sealed TOTP secrets, recovery codes' hashes) is keyed with a key derived here, never with the configured secret
//! itself: one secret can then serve several uses without any two sharing a key
//! (RFC 5869 §3.2, `info` "binds the derived key material to application- and
//! context-specific information").
//! Tokens FastAPI Users also reads (reset and verify JWTs) keep the configured
//! secret as their HS256 key, so that they interoperate.
//!
//! A [`Keyring`] holds a current secret and the previous ones still accepted.
//! Deriving gives the current key and its key id (`kid`); verifying or opening
//! picks the key its material names by kid, or tries each key when it names none,
//! so material made before a rotation opens until its secret leaves the ring.
//! The derivation is deterministic: every instance given the same secrets derives
//! the same keys and kids.
//!
//! This module sits at the bottom of the crate: it imports only [`Secret`].

use hkdf::Hkdf;
use sha2::Sha256;

use crate::token::Secret;

/// HKDF's salt (RFC 5869 §3.1: "a non-secret random value"; a fixed
/// application-specific one separates warden's derivations from any other use of
/// the same secret). Changing it changes every derived key.
const SALT: &[u8] = b"warden keyring v1";

/// The `info` of a secret's key id.
const KID_INFO: &[u8] = b"warden/key-id";

/// Bytes of a key id before base64url: 72 bits, 12 characters.
const KID_BYTES: usize = 9;

/// Bytes of every derived key: HMAC-SHA256's block-size-independent strength,
/// HS256's minimum (RFC 7518 §3.2) and AES-256's key.
pub(crate) const KEY_BYTES: usize = 32;

/// The fewest bytes a configured secret may have: HKDF's output is no stronger
/// than its input keying material (RFC 5869 §3.3, §4).
pub(crate) const MIN_SECRET_BYTES: usize = 32;

/// What a derived key is for: one label (HKDF `info`) per use, so that no two uses
/// share a key. A label, once shipped, never changes: its keys would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyPurpose {
    /// The HS256 key of the OAuth state JWT.
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    OAuthState,
    /// The HMAC key that derives an OAuth state's PKCE verifier and OpenID Connect
    /// nonce from its CSRF value.
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    OAuthChallenge,
    /// The HMAC key of the hash of an OAuth CSRF cookie that the state carries: the
    /// state is seen by whoever sees the URL, the cookie's value never is.
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    OAuthCsrfBinding,
    /// The AES-256-GCM key that seals provider tokens at rest.
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    OAuthTokenSealing,
    /// The HMAC key of a reset token's password fingerprint (`password_fgpt`).
    ResetFingerprint,
    /// The MAC key of device cookies (OWASP's device cookies: a known browser is not
    /// refused by others' failed logins; the second factor may skip one too).
    DeviceCookie,
    /// The HMAC key of the decoy credential ids a passkey sign-in offers for a
    /// login without passkeys (no enumeration of accounts).
    #[cfg_attr(not(feature = "passkeys"), allow(dead_code))]
    PasskeyDecoy,
    /// The AES-256-GCM key that seals second-factor secrets (TOTP seeds) at rest.
    SecondFactorSecret,
    /// The HMAC key of recovery codes' lookup hashes: a code is stored and found by
    /// its keyed hash, so a read of the database yields no usable code.
    RecoveryCode,
    /// The MAC key of remembered-device cookies (a second factor skipped on a
    /// browser the user asked to remember).
    TrustedDevice,
}

impl KeyPurpose {
    /// The HKDF `info` of this use.
    fn label(self) -> &'static [u8] {
        match self {
            Self::OAuthState => b"warden/oauth-state",
            Self::OAuthChallenge => b"warden/oauth-challenge",
            Self::OAuthCsrfBinding => b"warden/oauth-csrf-binding",
            Self::OAuthTokenSealing => b"warden/oauth-token-sealing",
            Self::ResetFingerprint => b"warden/reset-fingerprint",
            Self::DeviceCookie => b"warden/device-cookie",
            Self::SecondFactorSecret => b"warden/second-factor-secret",
            Self::RecoveryCode => b"warden/recovery-code",
            Self::TrustedDevice => b"warden/trusted-device",
            Self::PasskeyDecoy => b"warden/passkey-decoy",
        }
    }
}

/// One derived key and the id of the secret it comes from.
#[derive(Clone)]
pub(crate) struct DerivedKey {
    /// The key id: public, names the secret (not the purpose), reveals nothing of it.
    pub(crate) kid: String,
    /// The key, [`KEY_BYTES`] long.
    pub(crate) key: Secret,
}

impl std::fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DerivedKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// One secret of the ring: its HKDF pseudorandom key and its id.
#[derive(Clone)]
struct RingKey {
    kid: String,
    /// HKDF-Extract(SALT, secret) (RFC 5869 §2.2), zeroed on drop.
    prk: Secret,
}

impl RingKey {
    fn new(secret: &Secret) -> Option<Self> {
        if secret.len() < MIN_SECRET_BYTES {
            return None;
        }
        let (prk, hkdf) = Hkdf::<Sha256>::extract(Some(SALT), secret.expose());
        let mut kid = [0u8; KID_BYTES];
        hkdf.expand(KID_INFO, &mut kid).ok()?;
        Some(Self {
            kid: base64_url(&kid),
            prk: Secret::new(prk.to_vec()),
        })
    }

    fn derive(&self, purpose: KeyPurpose) -> Option<DerivedKey> {
        let hkdf = Hkdf::<Sha256>::from_prk(self.prk.expose()).ok()?;
        let mut key = vec![0u8; KEY_BYTES];
        hkdf.expand(purpose.label(), &mut key).ok()?;
        Some(DerivedKey {
            kid: self.kid.clone(),
            key: Secret::new(key),
        })
    }
}

/// HMAC-SHA256 under `key` of `fields`, each length-prefixed so that no two field
/// lists MAC the same bytes, then `context` (a format's name and version, so that
/// another format never verifies as this one): what warden's signed cookies carry.
pub(crate) fn fields_mac(
    key: &[u8],
    fields: &[&[u8]],
    context: &[u8],
) -> Option<hmac::Hmac<Sha256>> {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).ok()?;
    for field in fields {
        mac.update(&u64::try_from(field.len()).unwrap_or(u64::MAX).to_be_bytes());
        mac.update(field);
    }
    mac.update(context);
    Some(mac)
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A current secret and the previous ones still accepted, each giving one key per
/// [`KeyPurpose`].
///
/// ```text
/// let ring = Keyring::new(&Secret::from("the-new-secret-of-at-least-32-bytes"))?
///     .previous(&Secret::from("the-old-secret-of-at-least-32-bytes"))?;
/// let current = ring.current(KeyPurpose::OAuthState)?; // signs, with current.kid
/// let keys = ring.candidates(KeyPurpose::OAuthState, Some(&current.kid)); // verify
/// ```
#[derive(Clone)]
pub(crate) struct Keyring {
    /// The current key first, then the previous ones, newest first.
    keys: Vec<RingKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|key| key.kid.as_str()).collect();
        f.debug_struct("Keyring").field("kids", &kids).finish()
    }
}

impl Keyring {
    /// A ring whose current secret is `secret`; `None` when it has fewer than
    /// [`MIN_SECRET_BYTES`] bytes.
    pub(crate) fn new(secret: &Secret) -> Option<Self> {
        Some(Self {
            keys: vec![RingKey::new(secret)?],
        })
    }

    /// The same ring still accepting what `secret` made (a secret rotated out, newest
    /// first); `None` when it is too short. A secret already in the ring is not
    /// added twice.
    pub(crate) fn previous(mut self, secret: &Secret) -> Option<Self> {
        let key = RingKey::new(secret)?;
        if !self.keys.iter().any(|other| other.kid == key.kid) {
            self.keys.push(key);
        }
        Some(self)
    }

    /// The current key for `purpose`: what signs, seals or MACs new material, which
    /// carries its `kid`. `None` only if HKDF refused a 32-byte output (it allows
    /// up to 255 × 32 bytes, RFC 5869 §2.3).
    pub(crate) fn current(&self, purpose: KeyPurpose) -> Option<DerivedKey> {
        self.keys.first()?.derive(purpose)
    }

    /// The keys that may have made material for `purpose`: the one `kid` names
    /// (none when no key of the ring has that id: a removed or forged one), or
    /// every key, the current first, when the material names none.
    pub(crate) fn candidates(&self, purpose: KeyPurpose, kid: Option<&str>) -> Vec<DerivedKey> {
        self.keys
            .iter()
            .filter(|key| kid.is_none_or(|kid| key.kid == kid))
            .filter_map(|key| key.derive(purpose))
            .collect()
    }

    /// Every key for `purpose`, the current first.
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) fn all(&self, purpose: KeyPurpose) -> Vec<DerivedKey> {
        self.candidates(purpose, None)
    }
}

/// A ring of `secrets`, the current first, for tests.
#[cfg(test)]
pub(crate) fn test_ring(secrets: &[&str]) -> Keyring {
    let mut ring = Keyring::new(&Secret::from(secrets[0])).expect("a long secret");
    for old in &secrets[1..] {
        ring = ring.previous(&Secret::from(*old)).expect("a long secret");
    }
    ring
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    const ALL: [KeyPurpose; 10] = [
        KeyPurpose::OAuthState,
        KeyPurpose::OAuthChallenge,
        KeyPurpose::OAuthCsrfBinding,
        KeyPurpose::OAuthTokenSealing,
        KeyPurpose::ResetFingerprint,
        KeyPurpose::DeviceCookie,
        KeyPurpose::SecondFactorSecret,
        KeyPurpose::RecoveryCode,
        KeyPurpose::TrustedDevice,
        KeyPurpose::PasskeyDecoy,
    ];

    fn ring(secret: &str) -> Keyring {
        Keyring::new(&Secret::from(secret)).unwrap()
    }

    #[test]
    fn hkdf_matches_rfc_5869_test_case_1() {
        // RFC 5869 Appendix A.1.
        let ikm = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
        let salt = unhex("000102030405060708090a0b0c");
        let info = unhex("f0f1f2f3f4f5f6f7f8f9");
        let (prk, hkdf) = Hkdf::<Sha256>::extract(Some(&salt), &ikm);
        assert_eq!(
            hex(&prk),
            "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
        );
        let mut okm = [0u8; 42];
        hkdf.expand(&info, &mut okm).unwrap();
        assert_eq!(
            hex(&okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    #[test]
    fn derivation_is_pinned() {
        // Computed independently (Python's hmac): HKDF-SHA256 with salt
        // "warden keyring v1", info "warden/oauth-state", L = 32; the kid is
        // base64url of 9 bytes with info "warden/key-id". A change here breaks every
        // deployment's outstanding states, sealed tokens and reset tokens.
        let key = ring("a-configured-secret-of-32-bytes!!")
            .current(KeyPurpose::OAuthState)
            .unwrap();
        assert_eq!(
            hex(key.key.expose()),
            "39832cab86946b8fa1adcb1e8e1c4593660f815301e3652d028052f5ff11b209"
        );
        assert_eq!(key.kid, "Z_OwTqL3mZzi");
        // Deterministic: another instance with the same secret agrees.
        let again = ring("a-configured-secret-of-32-bytes!!")
            .current(KeyPurpose::OAuthState)
            .unwrap();
        assert_eq!(again.kid, key.kid);
        assert_eq!(again.key.expose(), key.key.expose());
    }

    #[test]
    fn labels_never_change() {
        // A shipped label is part of every deployment's keys: changing one makes
        // what its key sealed or MACed unreadable. New purposes append.
        let labels: Vec<&[u8]> = ALL.iter().map(|purpose| purpose.label()).collect();
        assert_eq!(
            labels,
            [
                b"warden/oauth-state".as_slice(),
                b"warden/oauth-challenge",
                b"warden/oauth-csrf-binding",
                b"warden/oauth-token-sealing",
                b"warden/reset-fingerprint",
                b"warden/device-cookie",
                b"warden/second-factor-secret",
                b"warden/recovery-code",
                b"warden/trusted-device",
                b"warden/passkey-decoy",
            ]
        );
    }

    #[test]
    fn each_label_gives_its_own_key_and_none_is_the_secret() {
        let secret = "one-secret-for-every-use-of-32-bytes";
        let one = ring(secret);
        let keys: Vec<Vec<u8>> = ALL
            .iter()
            .map(|purpose| one.current(*purpose).unwrap().key.expose().to_vec())
            .collect();
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(key.len(), KEY_BYTES);
            assert_ne!(key.as_slice(), secret.as_bytes());
            for other in &keys[i + 1..] {
                assert_ne!(key, other);
            }
        }
        // Another secret gives other keys and another kid.
        let other = ring("another-secret-for-every-use-32-bytes");
        let (a, b) = (
            one.current(KeyPurpose::OAuthState).unwrap(),
            other.current(KeyPurpose::OAuthState).unwrap(),
        );
        assert_ne!(a.kid, b.kid);
        assert_ne!(a.key.expose(), b.key.expose());
    }

    #[test]
    fn a_rotated_ring_still_opens_old_material_until_the_old_secret_goes() {
        let old = Secret::from("the-old-secret-of-at-least-32-bytes");
        let new = Secret::from("the-new-secret-of-at-least-32-bytes");
        let before = Keyring::new(&old).unwrap();
        let made = before.current(KeyPurpose::ResetFingerprint).unwrap();

        let rotated = Keyring::new(&new).unwrap().previous(&old).unwrap();
        let current = rotated.current(KeyPurpose::ResetFingerprint).unwrap();
        assert_ne!(current.kid, made.kid, "new material names the new secret");
        // The old kid finds the old key, and only it.
        let found = rotated.candidates(KeyPurpose::ResetFingerprint, Some(&made.kid));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key.expose(), made.key.expose());
        // Without a kid every key is tried, the current first.
        let all = rotated.all(KeyPurpose::ResetFingerprint);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].kid, current.kid);
        assert_eq!(all[1].kid, made.kid);
        // Once the old secret is removed, its material names no key.
        let after = Keyring::new(&new).unwrap();
        assert!(
            after
                .candidates(KeyPurpose::ResetFingerprint, Some(&made.kid))
                .is_empty()
        );
        // The same secret twice is one key.
        assert_eq!(
            Keyring::new(&new)
                .unwrap()
                .previous(&new)
                .unwrap()
                .all(KeyPurpose::OAuthState)
                .len(),
            1
        );
    }

    #[test]
    fn a_wrong_kid_and_a_short_secret_fail() {
        let ring = ring("a-configured-secret-of-32-bytes!!");
        assert!(
            ring.candidates(KeyPurpose::OAuthState, Some("not-a-kid"))
                .is_empty()
        );
        assert!(ring.candidates(KeyPurpose::OAuthState, Some("")).is_empty());
        assert!(Keyring::new(&Secret::from("short")).is_none());
        assert!(ring.previous(&Secret::from("short")).is_none());
    }

    #[test]
    fn nothing_secret_prints() {
        let ring = ring("a-configured-secret-of-32-bytes!!");
        let key = ring.current(KeyPurpose::OAuthState).unwrap();
        let printed = format!("{ring:?} {key:?}");
        assert!(printed.contains(&key.kid));
        assert!(!printed.contains("configured"));
        assert!(!printed.contains(&hex(key.key.expose())));
    }
}
