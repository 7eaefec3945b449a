//! Secret bytes that never print.

use secrecy::{ExposeSecret, SecretSlice};

/// A signing secret or private key. Its `Debug` output is `Secret([REDACTED])`, it
/// has no `Display` and no `Serialize`, and its memory is zeroed on drop.
///
/// ```
/// let secret = warden_runtime::Secret::from("a-long-random-string-of-32-bytes!!");
/// assert_eq!(format!("{secret:?}"), "Secret([REDACTED])");
/// ```
#[derive(Clone)]
pub struct Secret(SecretSlice<u8>);

impl Secret {
    /// Wraps bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(SecretSlice::from(bytes))
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.expose_secret().len()
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value.into_bytes())
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value.as_bytes().to_vec())
    }
}

impl From<Vec<u8>> for Secret {
    fn from(value: Vec<u8>) -> Self {
        Self::new(value)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}
