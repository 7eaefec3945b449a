//! TOTP codes from an implementation independent of warden's: RFC 4226 §5.3 HOTP
//! (HMAC-SHA1, dynamic truncation, 6 digits) over RFC 6238 §4.2 time steps of 30 s
//! from the Unix epoch, what every authenticator app computes.

// Included by path from other crates' tests too, which use only part of it.
#![allow(dead_code)]

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The 6-digit code of `secret_base32` (RFC 4648 base32, padding optional) at Unix
/// time `unix`.
pub fn code(secret_base32: &str, unix: i64) -> String {
    code_at_step(secret_base32, unix.div_euclid(30))
}

/// The 6-digit code of `secret_base32` for time step `step` (`unix / 30`).
pub fn code_at_step(secret_base32: &str, step: i64) -> String {
    let unpadded = secret_base32.trim_end_matches('=').to_ascii_uppercase();
    let key = data_encoding::BASE32_NOPAD
        .decode(unpadded.as_bytes())
        .expect("a base32 secret");
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(&(step as u64).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", binary % 1_000_000)
}
