//! # warden
//!
//! Complete, secure user authentication for [axum] services, by annotation: FastAPI
//! Users' routes, JSON shapes and error codes, with RFC 8725's strictness.
//!
//! ```no_run
//! use axum::{Json, Router, routing::get};
//! use warden::{SqliteStore, User, Warden, auth_backend, protected};
//!
//! /// HS256, tokens valid one hour, secret read from WARDEN_SECRET at startup.
//! #[auth_backend(name = "jwt", lifetime = 3600)]
//! pub struct Jwt;
//!
//! #[protected(active)]
//! async fn me(user: User) -> Json<User> {
//!     Json(user)
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), warden::Error> {
//!     let warden = Warden::builder()
//!         .store(SqliteStore::open("sqlite://warden.db").await?)
//!         .backend::<Jwt>()?
//!         .build()?;
//!     let app = Router::new()
//!         .route("/me", get(me))
//!         .merge(warden.routes())
//!         .with_state(warden);
//!     warden::serve(app, "127.0.0.1:8000").await
//! }
//! ```
//!
//! - [`macro@auth_backend`] declares a JWT backend on a unit struct; its options are
//!   checked at compile time.
//! - [`macro@protected`] guards a handler; it is sugar over [`CurrentUser`] and
//!   [`OptionalUser`], which you can also name yourself.
//! - [`Warden`] holds the backends and the [`UserManager`], and serves the routes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Declares a JWT authentication backend on a unit struct.
///
/// Generates `impl AuthBackend for T` (its [`BackendConfig`]) and `T::strategy()`,
/// which reads the keys; [`WardenBuilder::backend`] calls it at startup and
/// [`Warden::routes`] then serves `POST /auth/{name}/login`, `/logout` and `/refresh`.
///
/// | option | default | checked at compile time |
/// | --- | --- | --- |
/// | `name = "jwt"` | `"jwt"` | a URL path segment `[a-z0-9_-]+` |
/// | `lifetime = 3600` | required | an integer > 0, or `lifetime = forever` |
/// | `algorithm = "HS256"` | `"HS256"` | HS256/384/512, RS256/384/512, PS256/384/512, ES256/384, EdDSA |
/// | `secret = env("VAR")` / `file("path")` / `"literal"` | `env("WARDEN_SECRET")` | a literal HS secret is at least the hash size (32/48/64 bytes) |
/// | `public_key = env(..)` / `file(..)` / `"literal"` | none | required for RS/PS/ES/EdDSA, refused for HS |
/// | `audience = ["..."]` | `["fastapi-users:auth"]` | non-empty strings |
/// | `transport = bearer` | `bearer` | |
/// | `crate = "::path::to::warden"` | `::warden` | for re-exporting crates |
///
/// ```
/// use warden::{AuthBackend, Lifetime, auth_backend};
///
/// #[auth_backend(name = "rsa", lifetime = 900, algorithm = "RS256",
///                secret = file("keys/private.pem"), public_key = file("keys/public.pem"))]
/// pub struct Rsa;
///
/// assert_eq!(Rsa::CONFIG.name, "rsa");
/// assert_eq!(Rsa::CONFIG.lifetime, Lifetime::Seconds(900));
/// ```
///
/// A mistake is a compile error at the offending value:
///
/// ```compile_fail
/// #[warden::auth_backend(lifetime = 3600, algorithm = "HS265")] // did you mean "HS256"?
/// pub struct Jwt;
/// ```
pub use warden_macros::auth_backend;

/// Guards an async axum handler and hands it the current user.
///
/// Flags: `active`, `verified`, `superuser`, `optional`, `backend = Type`. A `User`
/// parameter receives the user (with `optional`, an `Option<User>`); with no such
/// parameter the guard still runs. The macro only retypes that one parameter into a
/// [`CurrentUser`] (or [`OptionalUser`]) extractor; body and return type are untouched.
///
/// No token, a bad one, an unknown user or (with `active`) an inactive user: 401
/// `{"detail": "Unauthorized"}`. A failed `verified` or `superuser` check: 403
/// `{"detail": "Forbidden"}`.
///
/// ```
/// use axum::{Json, Router, routing::get};
/// use warden::{User, Warden, protected};
///
/// #[protected(active, superuser)]
/// async fn admin(user: User) -> Json<User> {
///     Json(user)
/// }
///
/// #[protected(active, verified)]
/// async fn verified_only() -> &'static str {
///     "hello"
/// }
///
/// #[protected(optional)]
/// async fn greet(user: Option<User>) -> String {
///     user.map_or("Hello anonymous!".into(), |u| format!("Hello {}!", u.email))
/// }
///
/// let app: Router<Warden> = Router::new()
///     .route("/admin", get(admin))
///     .route("/verified", get(verified_only))
///     .route("/greet", get(greet));
/// ```
pub use warden_macros::protected;
pub use warden_runtime::mailer::DevMailer;
pub use warden_runtime::{
    Active, Algorithm, ApiError, AuthBackend, Authenticated, Backend, BackendConfig, ConfigError,
    CookieSettings, CurrentUser, DefaultEvents, Error, ErrorCode, InvalidPassword, JwtStrategy,
    JwtStrategyBuilder, KeySource, Lifetime, ManagerError, MemoryStore, OptionalUser,
    PasswordHasher, PasswordHasherConfig, Policy, SameSite, Secret, SqliteStore, StoreError,
    Superuser, TokenError, TokenSettings, Transport, User, UserCreate, UserEvents, UserManager,
    UserStore, UserUpdate, Verified, VerifiedClaims, Warden, WardenBuilder, async_trait,
};

/// The runtime crate, for what the facade does not re-export.
pub use warden_runtime as runtime;

/// Binds `addr` and serves `app` until Ctrl-C (or SIGTERM), then drains in-flight
/// requests.
pub async fn serve(app: axum::Router, addr: impl tokio::net::ToSocketAddrs) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, never resolve: the server keeps running.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// What the macros' generated code names. Not public API: it may change in any
/// release.
#[doc(hidden)]
pub mod __private {
    pub use warden_runtime::guard::Backend;
    pub use warden_runtime::{
        Active, Algorithm, AuthBackend, BackendConfig, ConfigError, CookieSettings, CurrentUser,
        JwtStrategy, KeySource, Lifetime, OptionalUser, SameSite, Superuser, Transport, Verified,
    };
}
