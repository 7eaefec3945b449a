//! Two-factor authentication (issue 19) end to end, through real HTTP.

#[macro_use]
mod common;

use common::totp;

/// The independent generator agrees with RFC 6238 Appendix B (SHA-1 rows, the 20-byte
/// ASCII seed; the last six of the eight digits).
#[test]
fn independent_totp_matches_rfc6238_appendix_b() {
    let secret = data_encoding::BASE32.encode(b"12345678901234567890");
    for (unix, eight) in [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ] {
        assert_eq!(totp::code(&secret, unix), eight[2..]);
        assert_eq!(totp::code_at_step(&secret, unix / 30), eight[2..]);
    }
}
