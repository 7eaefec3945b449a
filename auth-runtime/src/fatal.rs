//! The crate-level [`Error`]: everything that can stop a warden application. It
//! sits above the layers it gathers (configuration, storage, the manager), so that
//! `error` stays a leaf.

use crate::error::ConfigError;
use crate::manager::ManagerError;
use crate::store::StoreError;

/// Everything that can stop a warden application: configuration, storage, I/O.
///
/// `Debug` prints the same single line as `Display`, so `fn main() -> Result<(),
/// warden::Error>` ends with a readable message.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration mistake.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The user store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A user could not be created at startup (seeding, a superuser).
    #[error(transparent)]
    Manager(#[from] ManagerError),
    /// Binding or serving failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
