//! The enrolment's QR code, as an SVG document: what an authenticator app scans
//! to read the `otpauth://` URI (cargo feature `qr`, on by default). Drawn by the
//! `qrcode` crate's SVG renderer alone (no image crates); error correction level M
//! (15 %), the crate's default, and the quiet zone QR readers expect.

use qrcode::QrCode;
use qrcode::render::svg;

/// Smallest side of the SVG, in its user units: scans from a screen at arm's length.
const MIN_SIDE: u32 = 200;

/// `uri` as a QR code in an SVG document (`<?xml ...?><svg ...>`), black on white;
/// `None` if it is too long for a QR code (2,331 bytes at level M).
///
/// ```
/// use warden_runtime::two_factor::{qr, totp};
///
/// let uri = totp::otpauth_uri("MyApp", "ann@example.com", b"12345678901234567890");
/// let svg = qr::svg(&uri).unwrap();
/// assert!(svg.starts_with("<?xml") && svg.ends_with("</svg>"));
/// ```
pub fn svg(uri: &str) -> Option<String> {
    let code = QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(MIN_SIDE, MIN_SIDE)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_otpauth_uri_draws_as_the_same_svg_each_time() {
        let uri = crate::two_factor::totp::otpauth_uri(
            "MyApp",
            "ann@example.com",
            b"12345678901234567890",
        );
        let svg = svg(&uri).unwrap();
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"));
        assert!(svg.contains("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg, super::svg(&uri).unwrap(), "deterministic");
        assert_ne!(svg, super::svg(&uri.replace("ann", "bob")).unwrap());
        // The URI itself is not in the picture's text.
        assert!(!svg.contains("GEZDGNBV"));
    }

    #[test]
    fn a_uri_too_long_for_a_qr_code_is_none() {
        assert!(svg(&"x".repeat(10_000)).is_none());
    }
}
