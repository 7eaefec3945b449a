//! The runtime of [warden](https://docs.rs/warden): everything that runs.
//!
//! Most applications use the `warden` facade crate, whose macros generate code
//! against this crate. Everything here also works without the macros:
//! [`JwtStrategy`] issues and verifies tokens, [`PasswordHasher`] hashes passwords on
//! a bounded blocking pool, [`UserStore`] persists users, [`UserManager`] runs
//! registration and login, [`CurrentUser`] guards axum handlers and [`Warden`] ties
//! them together and serves FastAPI Users' routes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(all(feature = "rust-crypto", feature = "aws-lc"))]
compile_error!(
    "warden: the `rust-crypto` and `aws-lc` features are mutually exclusive; \
     to use aws-lc, set `default-features = false, features = [\"aws-lc\"]`"
);
#[cfg(not(any(feature = "rust-crypto", feature = "aws-lc")))]
compile_error!(
    "warden: choose a signature backend: enable the `rust-crypto` feature (the default) \
     or the `aws-lc` feature"
);

pub mod backend;
pub mod dev;
pub mod error;
pub mod guard;
pub mod mailer;
pub mod manager;
pub mod openapi;
pub mod password;
pub mod routes;
pub mod store;
pub mod token;
pub mod transport;
pub mod user;
mod warden;

pub use async_trait::async_trait;
pub use backend::{
    AuthBackend, BackendConfig, CookieSettings, KeySource, Lifetime, SameSite, Transport,
};
pub use error::{ApiError, ConfigError, Error, ErrorCode};
pub use guard::{
    Active, Authenticated, Backend, CurrentUser, OptionalUser, Policy, Superuser, Verified,
};
pub use manager::{
    ActionTokens, DefaultEvents, InvalidPassword, ManagerError, TokenSettings, UserEvents,
    UserManager, UserUpdate,
};
pub use password::{PasswordHasher, PasswordHasherConfig};
pub use store::{MemoryStore, SqliteStore, StoreError, UserStore};
pub use token::{Algorithm, JwtStrategy, JwtStrategyBuilder, Secret, TokenError, VerifiedClaims};
pub use user::{User, UserCreate};
pub use warden::{Warden, WardenBuilder};
