//! The second factor's cryptography: TOTP codes (RFC 6238) and the `otpauth://`
//! URI an authenticator app reads ([`totp`]), its QR code ([`qr`], cargo feature
//! `qr`), the secret sealed at rest under the keyring ([`seal`]), and recovery
//! codes with their keyed lookup hashes ([`recovery`]).
//!
//! Where they are stored is [`TwoFactorStore`](crate::store::TwoFactorStore); this
//! module knows no store: it sits on the clock, randomness, the keyring and
//! [`Secret`](crate::token::Secret) only.
//!
//! ```
//! use warden_runtime::two_factor::totp::{self, Totp};
//!
//! let secret = totp::new_secret().unwrap();
//! let uri = totp::otpauth_uri("MyApp", "ann@example.com", &secret);
//! assert!(uri.starts_with("otpauth://totp/MyApp:ann@example.com?secret="));
//! let now = 1_700_000_000;
//! let code = Totp::DEFAULT.code_at_step(&secret, Totp::DEFAULT.step_at(now));
//! assert_eq!(Totp::DEFAULT.matching_step(&secret, &code, now, None), Some(Totp::DEFAULT.step_at(now)));
//! ```

#[cfg(feature = "qr")]
pub mod qr;
pub mod recovery;
pub mod seal;
pub mod totp;

pub use seal::SealError;
pub use totp::{Totp, TotpAlgorithm};
