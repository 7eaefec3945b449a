//! Recovery codes: the way in when the authenticator is lost. Ten per user, each 12
//! characters of Crockford's base32 alphabet in lower case (60 random bits; no `i`,
//! `l`, `o` or `u`, so nothing reads as another character), shown once as
//! `xxxx-xxxx-xxxx`, and single use.
//!
//! A code is stored as its lookup hash, HMAC-SHA256 under a key the keyring derives
//! for this use ([`KeyPurpose::RecoveryCode`]) over the user id and the code: a
//! read of the database yields no usable code, and the store finds a code by
//! equality, with no slow password hash: 60 random bits need no stretching against
//! guessing (ASVS 5.0 6.5.2 asks at least 20 bits for lookup secrets and a hash
//! with a salt; the user id and the key play the salt), and no request waits on the
//! shared hashing workers.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::keyring::{KeyPurpose, Keyring};
use crate::token::Secret;

/// Codes a user gets at once.
pub const RECOVERY_CODES: usize = 10;

/// Characters of a code, without its dashes: 12 × 5 bits = 60 bits.
pub const CODE_CHARS: usize = 12;

/// Crockford's base32 symbols, in lower case.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

// At least 60 bits a code (issue 19; ASVS 5.0 6.5.2 asks at least 20): 5 bits a
// symbol of a 32-symbol alphabet.
const _: () = assert!(ALPHABET.len() == 32 && CODE_CHARS * 5 >= 60);

/// Longest input [`normalize`] looks at: a code with spaces and dashes.
const MAX_INPUT: usize = 64;

/// [`RECOVERY_CODES`] new random codes, distinct, each `xxxx-xxxx-xxxx`.
///
/// ```
/// use warden_runtime::two_factor::recovery::{generate, normalize, RECOVERY_CODES};
///
/// let codes = generate().unwrap();
/// assert_eq!(codes.len(), RECOVERY_CODES);
/// assert_eq!(codes[0].len(), 14);
/// assert_eq!(normalize(&codes[0].to_uppercase()).unwrap(), codes[0].replace('-', ""));
/// ```
pub fn generate() -> Result<Vec<String>, String> {
    let mut codes: Vec<String> = Vec::with_capacity(RECOVERY_CODES);
    while codes.len() < RECOVERY_CODES {
        // 256 is a multiple of 32: the low five bits of a random byte are uniform.
        let bytes = crate::random::bytes::<CODE_CHARS>()?;
        let mut code = String::with_capacity(CODE_CHARS + 2);
        for (at, byte) in bytes.iter().enumerate() {
            if at > 0 && at % 4 == 0 {
                code.push('-');
            }
            code.push(char::from(ALPHABET[usize::from(byte & 31)]));
        }
        // Two equal codes in 2^60 would be one code; the store keys them uniquely.
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    Ok(codes)
}

/// `input` as a code is stored and hashed: spaces and dashes dropped, lower case,
/// and, as Crockford's decoding reads them, `i` and `l` as `1` and `o` as `0`;
/// `None` unless that leaves [`CODE_CHARS`] characters of the alphabet.
///
/// ```
/// use warden_runtime::two_factor::recovery::normalize;
///
/// assert_eq!(normalize("ABCD-EFGH-JK01").as_deref(), Some("abcdefghjk01"));
/// assert_eq!(normalize("abcd efgh jkOI").as_deref(), Some("abcdefghjk01"));
/// assert_eq!(normalize("abcd-efgh-jku1"), None); // `u` is not in the alphabet
/// assert_eq!(normalize("abcd-efgh"), None);
/// ```
pub fn normalize(input: &str) -> Option<String> {
    if input.len() > MAX_INPUT {
        return None;
    }
    let code: String = input
        .chars()
        .filter(|c| *c != ' ' && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'i' | 'l' => '1',
            'o' => '0',
            other => other,
        })
        .collect();
    (code.len() == CODE_CHARS && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// HMAC-SHA256 under `key` of the length-prefixed user id and code (each preceded
/// by its length in bytes, 8 bytes big-endian, so no two pairs give one message),
/// base64url without padding.
fn keyed_hash(key: &Secret, user_id: &str, normalized: &str) -> Option<String> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.expose()).ok()?;
    for part in [user_id, normalized] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    Some(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// The lookup hash of the [`normalize`]d code of `user_id` under the ring's current
/// key: what the store keeps (and is given to find a code).
///
/// Every key of a ring derives (HKDF cannot refuse 32 bytes); were the current one
/// ever refused, the hash falls back to SHA-256 over the same message with this
/// use's label, still one per code and never a shared value.
// `Keyring` is crate-private, so it is too.
pub(crate) fn lookup_hash(ring: &Keyring, user_id: &str, normalized: &str) -> String {
    ring.current(KeyPurpose::RecoveryCode)
        .and_then(|key| keyed_hash(&key.key, user_id, normalized))
        .unwrap_or_else(|| {
            use sha2::Digest;
            let mut digest = Sha256::new();
            digest.update(b"warden/recovery-code");
            for part in [user_id, normalized] {
                digest.update((part.len() as u64).to_be_bytes());
                digest.update(part.as_bytes());
            }
            URL_SAFE_NO_PAD.encode(digest.finalize())
        })
}

/// The code's lookup hash under every key of the ring, the current first: codes
/// hashed before a rotation are found while the previous secret is configured (the
/// hash names no key, so each is tried; at most one is stored).
// `Keyring` is crate-private, so it is too.
pub(crate) fn lookup_hashes(ring: &Keyring, user_id: &str, normalized: &str) -> Vec<String> {
    let mut hashes: Vec<String> = ring
        .all(KeyPurpose::RecoveryCode)
        .iter()
        .filter_map(|key| keyed_hash(&key.key, user_id, normalized))
        .collect();
    if hashes.is_empty() {
        hashes.push(lookup_hash(ring, user_id, normalized));
    }
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::keyring::test_ring as ring;

    const A: &str = "the-first-secret-of-at-least-32-bytes";
    const B: &str = "the-second-secret-of-at-least-32-bytes";

    #[test]
    fn codes_are_ten_distinct_and_well_formed() {
        let codes = generate().unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        for code in &codes {
            assert_eq!(code.len(), 14, "{code}");
            let parts: Vec<&str> = code.split('-').collect();
            assert_eq!(parts.len(), 3);
            assert!(parts.iter().all(|part| part.len() == 4));
            let normalized = normalize(code).unwrap();
            assert_eq!(normalized, code.replace('-', ""));
            assert!(normalized.bytes().all(|b| ALPHABET.contains(&b)));
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        assert_ne!(codes, generate().unwrap());
    }

    #[test]
    fn every_symbol_shows_up() {
        // 100 codes × 12 characters: each of the 32 symbols is missing with
        // probability (31/32)^1200, about 3e-17.
        let seen: std::collections::BTreeSet<u8> = (0..10)
            .flat_map(|_| generate().unwrap())
            .flat_map(|code| code.into_bytes())
            .filter(|b| *b != b'-')
            .collect();
        assert_eq!(seen.len(), 32);
    }

    #[test]
    fn normalizing_forgives_case_spaces_dashes_and_lookalikes_only() {
        assert_eq!(normalize("abcd-efgh-jkmn").as_deref(), Some("abcdefghjkmn"));
        assert_eq!(
            normalize(" ABCD EFGH JKMN ").as_deref(),
            Some("abcdefghjkmn")
        );
        assert_eq!(normalize("abcdefghjkmn").as_deref(), Some("abcdefghjkmn"));
        assert_eq!(
            normalize("a-b-c-d-efghjkmn").as_deref(),
            Some("abcdefghjkmn")
        );
        assert_eq!(normalize("0O1IlL-2345-6789").as_deref(), None, "13 chars");
        assert_eq!(normalize("0O1I-lL23-4567").as_deref(), Some("001111234567"));
        for bad in [
            "",
            "abcd-efgh-jkm",
            "abcd-efgh-jkmnp",
            "abcd-efgh-jkmu",
            "abcd_efgh_jkmn",
            "abcd-efgh-jkm\u{e9}",
            "abcd-efgh-jkm\n",
            "ａｂｃｄ-efgh-jkmn",
            &"a".repeat(10_000),
        ] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_lookup_hash_is_keyed_per_user_and_pinned() {
        let ring = ring(&[A]);
        let hash = lookup_hash(&ring, "user-1", "abcdefghjkmn");
        assert_eq!(hash.len(), 43, "SHA-256, base64url");
        assert_eq!(hash, lookup_hash(&ring, "user-1", "abcdefghjkmn"));
        assert_ne!(hash, lookup_hash(&ring, "user-2", "abcdefghjkmn"));
        assert_ne!(hash, lookup_hash(&ring, "user-1", "abcdefghjkmp"));
        assert_ne!(
            hash,
            lookup_hash(&self::ring(&[B]), "user-1", "abcdefghjkmn")
        );
        // The length prefixes: moving bytes between the id and the code changes it.
        assert_ne!(
            lookup_hash(&ring, "ab", "cdefghjkmnpq"),
            lookup_hash(&ring, "abc", "defghjkmnpq")
        );
        // Pinned (computed independently with Python's hmac and hashlib: HKDF-SHA256,
        // salt "warden keyring v1", info "warden/recovery-code", then HMAC-SHA256 of
        // be64(6) "user-1" be64(12) "abcdefghjkmn"): a change strands every stored code.
        assert_eq!(hash, PINNED);
    }

    /// See `the_lookup_hash_is_keyed_per_user_and_pinned`.
    const PINNED: &str = "rRWfrWQBySMx3_RsNNy1GMT-ufIaqZV03DnChSoq9hQ";

    #[test]
    fn codes_hashed_before_a_rotation_are_found_after_it() {
        let before = lookup_hash(&ring(&[A]), "user-1", "abcdefghjkmn");
        let rotated = ring(&[B, A]);
        let hashes = lookup_hashes(&rotated, "user-1", "abcdefghjkmn");
        assert_eq!(hashes.len(), 2);
        assert_eq!(hashes[0], lookup_hash(&rotated, "user-1", "abcdefghjkmn"));
        assert_eq!(hashes[1], before);
        assert_eq!(
            lookup_hashes(&ring(&[A]), "user-1", "abcdefghjkmn"),
            [before]
        );
    }
}
