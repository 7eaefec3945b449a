//! An independent TOTP generator (RFC 6238 over RFC 4226's HOTP, HMAC-SHA1, six
//! digits, 30-second steps), written from the RFCs and never from warden's own code,
//! so the tests check warden against the standard rather than against itself.

use hmac::{Hmac, Mac};

/// The six-digit code of `secret_base32` (RFC 4648 base32, padding optional) at
/// `unix` seconds.
pub fn code(secret_base32: &str, unix: i64) -> String {
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_base32.trim_end_matches('=').as_bytes())
        .expect("a base32 secret");
    // RFC 6238 §4.2: T = floor((unix - T0) / X), T0 = 0, X = 30.
    let counter = u64::try_from(unix.div_euclid(30)).expect("after 1970");
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&secret).expect("any key length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    // RFC 4226 §5.3: dynamic truncation.
    let offset = usize::from(digest[19] & 0x0f);
    let binary = (u32::from(digest[offset]) & 0x7f) << 24
        | u32::from(digest[offset + 1]) << 16
        | u32::from(digest[offset + 2]) << 8
        | u32::from(digest[offset + 3]);
    format!("{:06}", binary % 1_000_000)
}

#[test]
fn rfc_6238_appendix_b_sha1() {
    // The RFC's 20-byte ASCII seed "12345678901234567890"; its 8-digit values,
    // shortened to their last six digits (the same truncation, mod 10^6).
    let secret = data_encoding::BASE32_NOPAD.encode(b"12345678901234567890");
    for (time, eight) in [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
    ] {
        assert_eq!(code(&secret, time), eight[2..]);
    }
}
