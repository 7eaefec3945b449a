//! Time-based one-time passwords: TOTP (RFC 6238) over HOTP (RFC 4226), HMAC from
//! the `hmac` crate over SHA-1, SHA-256 or SHA-512, and the `otpauth://` URI that
//! authenticator apps read (Google Authenticator's Key Uri Format).
//!
//! Written over `hmac` rather than taken from a TOTP crate: verification needs the
//! matched time step itself (to refuse it, and every earlier one, afterwards: RFC
//! 6238 §5.2, ASVS 5.0 6.5.1), a constant-time comparison of every candidate, and
//! nothing else; HOTP is a dozen lines (RFC 4226 §5.3).

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

/// The HMAC of TOTP (RFC 6238 §1.2: SHA-1, SHA-256 or SHA-512).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpAlgorithm {
    /// HMAC-SHA-1: RFC 4226's, and the only one every authenticator app reads.
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

impl TotpAlgorithm {
    /// The name in an `otpauth://` URI's `algorithm` parameter.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    /// HMAC of `counter` (8 bytes, big-endian: RFC 4226 §5.2) under `secret`.
    fn mac(self, secret: &[u8], counter: u64) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(secret: &[u8], counter: u64) -> Vec<u8> {
            // HMAC takes a key of any length (RFC 2104 §2): this never fails.
            let Ok(mut mac) = <M as hmac::digest::KeyInit>::new_from_slice(secret) else {
                return Vec::new();
            };
            mac.update(&counter.to_be_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Self::Sha1 => run::<Hmac<sha1::Sha1>>(secret, counter),
            Self::Sha256 => run::<Hmac<sha2::Sha256>>(secret, counter),
            Self::Sha512 => run::<Hmac<sha2::Sha512>>(secret, counter),
        }
    }
}

/// The TOTP parameters: algorithm, digits and time step.
///
/// ```
/// use warden_runtime::two_factor::totp::Totp;
///
/// let totp = Totp::DEFAULT; // SHA-1, 6 digits, 30 s
/// let secret = b"12345678901234567890";
/// let now = 59;
/// let code = totp.code_at_step(secret, totp.step_at(now));
/// assert_eq!(code, "287082"); // RFC 6238 Appendix B, last 6 digits
/// assert_eq!(totp.matching_step(secret, "287 082", now, None), Some(1));
/// // That step was used: the same code is refused afterwards.
/// assert_eq!(totp.matching_step(secret, &code, now, Some(1)), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totp {
    /// The HMAC.
    pub algorithm: TotpAlgorithm,
    /// Digits of a code: 6 to 8 (RFC 4226 §5.3 asks at least 6).
    pub digits: u32,
    /// Seconds per time step (RFC 6238 §4.1's X; 30 recommended, §5.2).
    pub period: u64,
}

/// Longest code input looked at: a few digits with spaces between.
const MAX_CODE_INPUT: usize = 64;

impl Totp {
    /// SHA-1, 6 digits, 30 seconds: what every authenticator app reads (the Key Uri
    /// Format's defaults; some apps ignore other values).
    pub const DEFAULT: Totp = Totp {
        algorithm: TotpAlgorithm::Sha1,
        digits: 6,
        period: 30,
    };

    /// The period in seconds, at least 1.
    fn period(&self) -> i64 {
        i64::try_from(self.period).unwrap_or(i64::MAX).max(1)
    }

    /// The time step at Unix time `unix` (RFC 6238 §4.2: T = floor((now - T0) / X),
    /// T0 = 0).
    pub fn step_at(&self, unix: i64) -> i64 {
        unix.div_euclid(self.period())
    }

    /// The code of time step `step`: HOTP (RFC 4226 §5.3, dynamic truncation) with
    /// the step as counter, zero-padded to [`digits`](Self::digits).
    pub fn code_at_step(&self, secret: &[u8], step: i64) -> String {
        // A step is never negative after 1970; a negative one is still a counter.
        let mac = self.algorithm.mac(secret, step as u64);
        let value = truncate(&mac);
        let modulus = 10u64.checked_pow(self.digits).unwrap_or(u64::MAX);
        format!(
            "{:0width$}",
            u64::from(value) % modulus,
            width = self.digits as usize
        )
    }

    /// The step in `[now-1, now+1]` (RFC 6238 §5.2, one step of skew each way)
    /// whose code equals `code` and which is strictly greater than `after` (the
    /// last accepted step: a replay, or an earlier step, is refused).
    ///
    /// Compares in constant time and checks every candidate (no early exit on a
    /// match). When two steps have the same code the later one is taken, so the code
    /// cannot be accepted again at the other. A code of the wrong length or with
    /// non-digits is `None`; spaces are tolerated (`"123 456"`).
    pub fn matching_step(
        &self,
        secret: &[u8],
        code: &str,
        now: i64,
        after: Option<i64>,
    ) -> Option<i64> {
        if code.len() > MAX_CODE_INPUT {
            return None;
        }
        let code: String = code.chars().filter(|c| *c != ' ').collect();
        if code.len() != self.digits as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let current = self.step_at(now);
        let mut found = Choice::from(0);
        let mut matched = 0i64;
        for step in [
            current.saturating_sub(1),
            current,
            current.saturating_add(1),
        ] {
            let expected = self.code_at_step(secret, step);
            let fresh = Choice::from(u8::from(after.is_none_or(|last| step > last)));
            let hit = expected.as_bytes().ct_eq(code.as_bytes()) & fresh;
            matched = i64::conditional_select(&matched, &step, hit);
            found |= hit;
        }
        bool::from(found).then_some(matched)
    }
}

/// RFC 4226 §5.3's dynamic truncation: 31 bits at the offset the last nibble names.
fn truncate(mac: &[u8]) -> u32 {
    let Some(last) = mac.last() else {
        return 0;
    };
    let offset = usize::from(last & 0x0f);
    match mac.get(offset..offset + 4) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a & 0x7f, b, c, d]),
        _ => 0,
    }
}

/// Bytes of a new secret: 160 bits, RFC 4226 §4's recommendation (R6) and SHA-1's
/// output length.
pub const SECRET_BYTES: usize = 20;

/// A new random TOTP secret of [`SECRET_BYTES`] bytes, from the operating system.
///
/// ```
/// let secret = warden_runtime::two_factor::totp::new_secret().unwrap();
/// assert_eq!(secret.len(), 20);
/// ```
pub fn new_secret() -> Result<Vec<u8>, String> {
    Ok(crate::random::bytes::<SECRET_BYTES>()?.to_vec())
}

/// `secret` in RFC 4648 base32, upper case, without padding: what a user types into
/// an authenticator app, and the URI's `secret` parameter.
///
/// ```
/// assert_eq!(warden_runtime::two_factor::totp::base32(b"12345678901234567890"),
///            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
/// ```
pub fn base32(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// What the URI percent-encodes: everything but RFC 3986's unreserved characters
/// and `@` (allowed in a path and a query, and kept by the Key Uri Format's own
/// examples, `Example:alice@google.com`). A `:` inside the issuer or the account is
/// encoded, so the label's one literal `:` separates them.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// The `otpauth://totp/` URI of Google Authenticator's Key Uri Format, for
/// [`Totp::DEFAULT`]: label `issuer:account`, then the secret, the issuer again
/// (apps prefer the parameter), the algorithm, the digits and the period.
///
/// ```
/// let uri = warden_runtime::two_factor::totp::otpauth_uri("My App", "ann@example.com", b"12345678901234567890");
/// assert_eq!(uri, "otpauth://totp/My%20App:ann@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
///                  &issuer=My%20App&algorithm=SHA1&digits=6&period=30");
/// ```
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let totp = Totp::DEFAULT;
    let issuer = utf8_percent_encode(issuer, URI_COMPONENT).to_string();
    format!(
        "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm={}&digits={}&period={}",
        utf8_percent_encode(account, URI_COMPONENT),
        base32(secret),
        totp.algorithm.name(),
        totp.digits,
        totp.period,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED20: &[u8] = b"12345678901234567890";
    const SEED32: &[u8] = b"12345678901234567890123456789012";
    const SEED64: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    fn totp(algorithm: TotpAlgorithm, digits: u32) -> Totp {
        Totp {
            algorithm,
            digits,
            period: 30,
        }
    }

    #[test]
    fn rfc_6238_appendix_b_with_the_errata_seeds() {
        // RFC 6238 Appendix B: time, then the 8-digit TOTP for SHA-1, SHA-256 and
        // SHA-512, with the seeds of errata 2866 (20, 32 and 64 bytes).
        let rows: [(i64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (time, sha1, sha256, sha512) in rows {
            for (algorithm, seed, expected) in [
                (TotpAlgorithm::Sha1, SEED20, sha1),
                (TotpAlgorithm::Sha256, SEED32, sha256),
                (TotpAlgorithm::Sha512, SEED64, sha512),
            ] {
                let totp = totp(algorithm, 8);
                let step = totp.step_at(time);
                assert_eq!(
                    totp.code_at_step(seed, step),
                    expected,
                    "{algorithm:?} at {time}"
                );
                // And it verifies at that time.
                assert_eq!(totp.matching_step(seed, expected, time, None), Some(step));
            }
        }
        // Appendix B's T column for two rows.
        assert_eq!(Totp::DEFAULT.step_at(1111111109), 0x23523EC);
        assert_eq!(Totp::DEFAULT.step_at(20000000000), 0x27BC86AA);
    }

    #[test]
    fn rfc_4226_appendix_d_hotp_values() {
        // RFC 4226 Appendix D: HOTP with the 20-byte seed, counters 0 to 9; HOTP is
        // TOTP's code at step = counter.
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        let hotp = Totp::DEFAULT;
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(hotp.code_at_step(SEED20, counter as i64), *code);
        }
        // Appendix D's truncated values, before the modulo.
        let mac = TotpAlgorithm::Sha1.mac(SEED20, 0);
        assert_eq!(truncate(&mac), 1284755224);
    }

    #[test]
    fn one_step_of_skew_each_way_and_nothing_at_or_before_the_last_accepted() {
        let totp = Totp::DEFAULT;
        let now = 1_700_000_015;
        let step = totp.step_at(now);
        let code = |s: i64| totp.code_at_step(SEED20, s);
        assert_eq!(
            totp.matching_step(SEED20, &code(step), now, None),
            Some(step)
        );
        assert_eq!(
            totp.matching_step(SEED20, &code(step - 1), now, None),
            Some(step - 1)
        );
        assert_eq!(
            totp.matching_step(SEED20, &code(step + 1), now, None),
            Some(step + 1)
        );
        assert_eq!(totp.matching_step(SEED20, &code(step - 2), now, None), None);
        assert_eq!(totp.matching_step(SEED20, &code(step + 2), now, None), None);
        // The last accepted step, and every one before it, is refused.
        assert_eq!(
            totp.matching_step(SEED20, &code(step), now, Some(step)),
            None
        );
        assert_eq!(
            totp.matching_step(SEED20, &code(step - 1), now, Some(step - 1)),
            None
        );
        assert_eq!(
            totp.matching_step(SEED20, &code(step - 1), now, Some(step)),
            None,
            "an earlier step after a later one"
        );
        assert_eq!(
            totp.matching_step(SEED20, &code(step + 1), now, Some(step)),
            Some(step + 1)
        );
        // Another secret's code does not match.
        assert_eq!(
            totp.matching_step(b"another secret of 20", &code(step), now, None),
            None
        );
    }

    #[test]
    fn a_code_shared_by_two_steps_is_taken_at_the_later() {
        // Search a secret whose codes at two neighbouring steps collide (one in a
        // million per pair with 6 digits: with 2 digits, a few tries).
        let totp = Totp {
            digits: 2,
            ..Totp::DEFAULT
        };
        let now = 3000;
        let step = totp.step_at(now);
        let secret = (0u32..10_000)
            .map(|i| i.to_be_bytes().to_vec())
            .find(|s| totp.code_at_step(s, step - 1) == totp.code_at_step(s, step + 1))
            .unwrap();
        let code = totp.code_at_step(&secret, step - 1);
        assert_eq!(
            totp.matching_step(&secret, &code, now, None),
            Some(step + 1)
        );
        // Replayed, it matches neither again.
        assert_eq!(
            totp.matching_step(&secret, &code, now, Some(step + 1)),
            None
        );
    }

    #[test]
    fn malformed_codes_are_none_and_spaces_are_tolerated() {
        let totp = Totp::DEFAULT;
        let now = 59;
        // 287082 is the code of step 1 (RFC 4226 Appendix D, counter 1).
        for good in ["287082", "287 082", " 287082 ", "2 8 7 0 8 2"] {
            assert_eq!(
                totp.matching_step(SEED20, good, now, None),
                Some(1),
                "{good:?}"
            );
        }
        for bad in [
            "",
            "28708",
            "2870821",
            "28708a",
            "+87082",
            "287-082",
            "２８７０８２",
            "287082\n",
            "\t287082",
            &"2".repeat(10_000),
        ] {
            assert_eq!(totp.matching_step(SEED20, bad, now, None), None, "{bad:?}");
        }
    }

    #[test]
    fn odd_parameters_never_panic() {
        let zero_period = Totp {
            period: 0,
            ..Totp::DEFAULT
        };
        assert_eq!(zero_period.step_at(100), 100);
        let huge = Totp {
            period: u64::MAX,
            ..Totp::DEFAULT
        };
        assert_eq!(huge.step_at(i64::MAX), 1);
        assert_eq!(
            Totp::DEFAULT.matching_step(SEED20, "000000", i64::MAX, None),
            None
        );
        assert_eq!(
            Totp::DEFAULT.matching_step(SEED20, "000000", i64::MIN, None),
            None
        );
        let long = Totp {
            digits: 12,
            ..Totp::DEFAULT
        };
        assert_eq!(long.code_at_step(SEED20, 0).len(), 12);
        assert_eq!(Totp::DEFAULT.step_at(-1), -1);
        assert_eq!(Totp::DEFAULT.code_at_step(b"", 0).len(), 6);
    }

    #[test]
    fn secrets_are_random_and_encode_as_base32() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_eq!(a.len(), SECRET_BYTES);
        assert_ne!(a, b);
        // RFC 4648 §10's test vectors, without padding.
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(SEED20), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(base32(&a).len(), 32);
    }

    #[test]
    fn the_uri_encodes_issuer_and_account() {
        assert_eq!(
            otpauth_uri("ACME Co", "john.doe@email.com", SEED20),
            "otpauth://totp/ACME%20Co:john.doe@email.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30"
        );
        // A colon, an ampersand, a question mark, a slash, a plus and non-ASCII
        // cannot break the label or the parameters.
        assert_eq!(
            otpauth_uri("A&B: Ltd/+?", "zoë:x#y", b"\x00"),
            "otpauth://totp/A%26B%3A%20Ltd%2F%2B%3F:zo%C3%AB%3Ax%23y?secret=AA\
             &issuer=A%26B%3A%20Ltd%2F%2B%3F&algorithm=SHA1&digits=6&period=30"
        );
    }
}
