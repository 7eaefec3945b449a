//! Authentication backends: a named pairing of a transport and a strategy, the
//! runtime side of `#[auth_backend(...)]`.

use std::sync::Arc;

use crate::ConfigError;
use crate::token::{Algorithm, JwtStrategy, Secret};
use crate::transport::{BearerTransport, CookieTransport, Transport};
pub use crate::transport::{CookieSettings, SameSite};

pub use crate::token::Lifetime;

/// Where a secret or key comes from. Read once, at startup. `Debug` never shows a
/// literal's value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// An environment variable holding the secret (or the PEM text).
    Env(&'static str),
    /// A file holding the secret or PEM key, relative to the working directory.
    File(&'static str),
    /// The value itself, written in the source code.
    Literal(&'static str),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Env(var) => f.debug_tuple("Env").field(var).finish(),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Literal(_) => f.write_str("Literal([REDACTED])"),
        }
    }
}

/// What an unset variable of `option` should hold.
fn hint(option: &str) -> &'static str {
    match option {
        "secret" => {
            "set it to a random secret, e.g. `export WARDEN_SECRET=$(openssl rand -base64 32)`, or to the PEM private key for asymmetric algorithms"
        }
        "public_key" | "verify_keys" => {
            "set it to the PEM public key (`-----BEGIN PUBLIC KEY-----...`)"
        }
        "redis_url" => "set it to the Redis URL, e.g. `redis://127.0.0.1:6379/0`",
        "issuer" => "set it to the provider's issuer URL, e.g. `https://accounts.google.com`",
        "github_url" | "github_api_url" => "set it to the GitHub (Enterprise) web or API URL",
        "client_id" | "client_secret" => {
            "set it to what the provider gave when you registered the application"
        }
        _ => "set it",
    }
}

impl KeySource {
    /// Reads the secret. Errors name the backend, the option and the fix.
    pub fn read(&self, backend: &str, option: &'static str) -> Result<Secret, ConfigError> {
        match *self {
            Self::Literal(value) => Ok(Secret::from(value)),
            Self::Env(var) => match std::env::var_os(var) {
                Some(value) if !value.is_empty() => Ok(Secret::new(value.into_encoded_bytes())),
                _ => Err(ConfigError::MissingEnv {
                    backend: backend.to_owned(),
                    option,
                    var: var.to_owned(),
                    hint: hint(option),
                }),
            },
            Self::File(path) => {
                std::fs::read(path)
                    .map(Secret::new)
                    .map_err(|error| ConfigError::UnreadableFile {
                        backend: backend.to_owned(),
                        option,
                        path: path.to_owned(),
                        reason: error.to_string(),
                    })
            }
        }
    }
}

/// How a declared backend carries its token: one of the built-in [`Transport`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TransportConfig {
    /// `Authorization: Bearer <token>`; login answers
    /// `{"access_token": ..., "token_type": "bearer"}`.
    #[default]
    Bearer,
    /// A cookie; login answers 204 with `Set-Cookie`, logout clears it (FastAPI
    /// Users' `CookieTransport`).
    Cookie(CookieSettings),
    /// A request header of this name (`X-API-Key`): API key backends only.
    Header(&'static str),
}

impl TransportConfig {
    /// The transport this configuration describes.
    pub fn build(&self) -> Arc<dyn Transport> {
        match *self {
            Self::Bearer => Arc::new(BearerTransport),
            Self::Header(name) => Arc::new(crate::transport::HeaderTransport::new(name)),
            Self::Cookie(settings) => Arc::new(CookieTransport::new(settings)),
        }
    }
}

/// Which of FastAPI Users' strategies a backend's tokens come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StrategyConfig {
    /// Signed JWTs (FastAPI Users' `JWTStrategy`): the default.
    #[default]
    Jwt,
    /// Opaque tokens in the store's database, FastAPI Users' `accesstoken` table
    /// (`DatabaseStrategy`).
    Database,
    /// Opaque tokens in Redis under FastAPI Users' key prefix (`RedisStrategy`).
    Redis {
        /// The Redis URL (`redis://host:6379/0`).
        url: KeySource,
    },
    /// API keys (personal access tokens) in the store's database, created at
    /// `POST /users/me/api-keys`: the backend serves no login, logout or refresh.
    ApiKey,
}

/// How long a login lasts: refresh tokens, and the most a session can be extended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Refresh tokens (opt-in): login and refresh also answer a single-use
    /// `refresh_token` that lives this many seconds.
    pub refresh: Option<u64>,
    /// The most a login lasts, however it is refreshed (seconds); `None`: no limit
    /// (only with `lifetime = forever`).
    pub max_age: Option<u64>,
}

impl SessionConfig {
    /// No refresh tokens; sessions last at most 7 days.
    pub const DEFAULT: Self = Self {
        refresh: None,
        max_age: Some(7 * 24 * 3600),
    };
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A backend's configuration as declared; `#[auth_backend]` generates it, and it can
/// be written by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendConfig {
    /// URL segment of the backend's routes: `/auth/{name}/login`.
    pub name: &'static str,
    /// Token lifetime.
    pub lifetime: Lifetime,
    /// The pinned signature algorithm.
    pub algorithm: Algorithm,
    /// The signing secret (HS*) or PEM private key.
    pub secret: KeySource,
    /// The PEM public key, for asymmetric algorithms.
    pub public_key: Option<KeySource>,
    /// More PEM public keys that verify (and are published in the JWKS), for key
    /// rotation: the next key before it signs, the previous one until its tokens
    /// have expired.
    pub verify_keys: &'static [KeySource],
    /// Accepted (and issued) audiences.
    pub audience: &'static [&'static str],
    /// Where the token travels.
    pub transport: TransportConfig,
    /// Where tokens come from (default JWT).
    pub strategy: StrategyConfig,
    /// Refresh tokens and the longest session.
    pub sessions: SessionConfig,
}

impl BackendConfig {
    /// Reads the keys and builds the strategy.
    pub fn strategy(&self) -> Result<JwtStrategy, ConfigError> {
        let secret = self.secret.read(self.name, "secret")?;
        self.strategy_with_secret(secret)
    }

    /// Builds the strategy with a secret obtained elsewhere (the development secret
    /// file, a vault client).
    pub fn strategy_with_secret(&self, secret: Secret) -> Result<JwtStrategy, ConfigError> {
        let mut builder = JwtStrategy::builder(secret, self.lifetime)
            .backend_name(self.name)
            .algorithm(self.algorithm)
            .audience(self.audience.iter().copied());
        if let Some(public_key) = &self.public_key {
            builder = builder.public_key(public_key.read(self.name, "public_key")?);
        }
        for key in self.verify_keys {
            builder = builder.verify_key(key.read(self.name, "verify_keys")?);
        }
        builder.build()
    }
}

/// A declared authentication backend. Implement it with
/// `#[warden::auth_backend(...)]` on a unit struct, or by hand:
///
/// ```
/// use warden_runtime::{Algorithm, AuthBackend, BackendConfig, KeySource, Lifetime, SessionConfig, StrategyConfig, TransportConfig};
///
/// pub struct Jwt;
/// impl AuthBackend for Jwt {
///     const CONFIG: BackendConfig = BackendConfig {
///         name: "jwt",
///         lifetime: Lifetime::Seconds(3600),
///         algorithm: Algorithm::HS256,
///         secret: KeySource::Env("WARDEN_SECRET"),
///         public_key: None,
///         verify_keys: &[],
///         audience: &["fastapi-users:auth"],
///         transport: TransportConfig::Bearer,
///         strategy: StrategyConfig::Jwt,
///         sessions: SessionConfig::DEFAULT,
///     };
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a warden authentication backend",
    label = "not declared with #[auth_backend]",
    note = "declare it with `#[warden::auth_backend(name = \"...\", lifetime = 3600)] pub struct {Self};`"
)]
pub trait AuthBackend: Send + Sync + 'static {
    /// The declared configuration.
    const CONFIG: BackendConfig;

    /// Reads the keys (environment, files) and builds the strategy. Called once, at
    /// startup, by [`WardenBuilder::backend`](crate::WardenBuilder::backend).
    fn strategy() -> Result<JwtStrategy, ConfigError> {
        Self::CONFIG.strategy()
    }
}
