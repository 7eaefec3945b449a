//! The runtime of [warden](https://docs.rs/warden): everything that runs.
//!
//! Most applications use the `warden` facade crate, whose macros generate code
//! against this crate. Everything here also works without the macros:
//! [`UserModel`] describes the application's user, [`JwtStrategy`] (a [`Strategy`])
//! issues and verifies tokens, a [`Transport`] carries them, [`PasswordHasher`]
//! hashes passwords on a bounded blocking pool, [`UserStore`] persists users,
//! [`UserManager`] runs registration and login, [`authn`] is the one request
//! pipeline, [`CurrentUser`] guards axum handlers and [`Warden`] ties them together
//! and serves FastAPI Users' routes.
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

mod aead;
pub mod audit;
pub mod authn;
pub mod backend;
mod builder;
mod clock;
mod csrf;
pub mod dev;
pub mod error;
mod fatal;
pub mod guard;
mod keyring;
pub mod mailer;
pub mod manager;
pub mod model;
pub mod oauth;
pub mod openapi;
#[cfg(feature = "passkeys")]
pub mod passkeys;
pub mod password;
#[doc(hidden)]
pub mod probe;
mod random;
pub mod role;
pub mod routes;
pub mod scope;
pub mod second_factor;
pub mod session;
pub mod signin;
pub mod store;
pub mod strategy;
pub mod throttle;
pub mod token;
pub mod transport;
pub mod two_factor;
pub mod user;
mod warden;

pub use async_trait::async_trait;
pub use authn::{Access, Authenticator};
pub use backend::{
    AuthBackend, BackendConfig, CookieSettings, KeySource, Lifetime, SameSite, SessionConfig,
    StrategyConfig, TransportConfig,
};
pub use builder::WardenBuilder;
pub use clock::Clock;
pub use error::{ApiError, ConfigError, ErrorCode, ErrorTexts, FieldError};
pub use fatal::Error;
pub use guard::{
    Active, AuthState, Authenticated, Backend, CurrentUser, Fresh, Mfa, OptionalUser, Policy,
    Superuser, Verified,
};
pub use jsonwebtoken::jwk::{Jwk, JwkSet};
pub use manager::{
    ActionTokens, DefaultEvents, InvalidPassword, ManagerError, TokenSettings, UserEvents,
    UserManager, UserUpdate,
};
pub use model::{Account, Field, FieldKind, FieldValue, UserId, UserModel};
pub use password::{PasswordHasher, PasswordHasherConfig};
pub use role::{AnyRole, Roles};
pub use routes::not_found;
pub use scope::{Interactive, Scoped, Scopes};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use store::DatabaseStore;
#[cfg(feature = "postgres")]
pub use store::PostgresStore;
#[cfg(feature = "sqlite")]
pub use store::SqliteStore;
pub use store::{
    CacheSettings, MemoryStore, OAuthAccount, OAuthAccountStore, StoreChange, StoreError, UserStore,
};
pub use strategy::{CachedJwt, Grant, Issued, Strategy, StrategyError, TokenInfo};
pub use throttle::{ThrottleSettings, TrustedProxies};
pub use token::{Algorithm, JwtStrategy, JwtStrategyBuilder, Secret, TokenError, VerifiedClaims};
pub use transport::{BearerTransport, CookieTransport, HeaderTransport, Transport, TransportDoc};
pub use user::{User, UserCreate};
pub use warden::Warden;

/// What the macros' generated code names. Not public API: it may change in any
/// release.
#[doc(hidden)]
pub mod __private {
    pub use crate::authn::Access;
    pub use crate::error::{ApiError, FieldError};
    pub use crate::guard::{
        AuthState, Guard, OptionalGuard, model_from_parts, optional_model_from_parts,
        require_policy,
    };
    pub use crate::model::{
        Account, AccountMut, Field, FieldType, FieldValue, UserModel, column, read_json_field,
    };
    pub use crate::oauth::{OAuthClient, OAuthClientConfig, OAuthProvider};
    pub use crate::probe::{
        ModelKind, NoUserParameter, OptionalModelKind, OtherKind, Probe, at_most_one,
        check_optional, check_plain, count_optional, count_plain, exactly_one, plus,
    };
    pub use crate::role::{AnyRole, RoleNames, Roles, role_bits};
    pub use crate::scope::{Scoped, Scopes};
    pub use axum::extract::{FromRequestParts, OptionalFromRequestParts};
    pub use axum::http::request::Parts;
    pub use serde::ser::SerializeStruct;
    pub use serde::{Serialize, Serializer};
    pub use uuid::Uuid;
    /// A JSON object, as request bodies are read.
    pub type JsonMap = serde_json::Map<String, serde_json::Value>;

    /// The cargo features that declarations need: `#[auth_backend(strategy =
    /// "redis")]` expands to `feature::redis::<Enabled>()` and `#[oauth_client]` to
    /// `feature::oauth::<Enabled>()`, so with the feature off the build fails with
    /// one message naming it, rather than with a missing item.
    pub mod feature {
        /// This build: implements the trait of each feature that is on.
        #[derive(Debug)]
        pub struct Enabled;

        /// Warden's `redis` cargo feature is on.
        #[diagnostic::on_unimplemented(
            message = "`strategy = \"redis\"` needs warden's `redis` cargo feature",
            label = "the `redis` feature of warden is off",
            note = "enable it in Cargo.toml: warden = {{ version = \"...\", features = [\"redis\"] }}"
        )]
        pub trait Redis {}
        #[cfg(feature = "redis")]
        impl Redis for Enabled {}

        /// Warden's `oauth` cargo feature is on.
        #[diagnostic::on_unimplemented(
            message = "`#[oauth_client]` needs warden's `oauth` cargo feature",
            label = "the `oauth` feature of warden is off",
            note = "enable it in Cargo.toml: warden = {{ version = \"...\", features = [\"oauth\"] }}"
        )]
        pub trait OAuth {}
        #[cfg(feature = "oauth")]
        impl OAuth for Enabled {}

        /// Builds only when `T` (always [`Enabled`]) has the `redis` feature.
        pub const fn redis<T: Redis>() {}
        /// Builds only when `T` (always [`Enabled`]) has the `oauth` feature.
        pub const fn oauth<T: OAuth>() {}
    }
}
