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

pub use warden_macros::{auth_backend, protected};
pub use warden_runtime::{
    Active, Algorithm, ApiError, AuthBackend, Authenticated, Backend, BackendConfig, ConfigError,
    CurrentUser, DefaultEvents, Error, ErrorCode, InvalidPassword, JwtStrategy, JwtStrategyBuilder,
    KeySource, Lifetime, ManagerError, MemoryStore, OptionalUser, PasswordHasher,
    PasswordHasherConfig, Policy, Secret, SqliteStore, StoreError, Superuser, TokenError,
    Transport, User, UserCreate, UserEvents, UserManager, UserStore, Verified, VerifiedClaims,
    Warden, WardenBuilder, async_trait,
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
        Active, Algorithm, AuthBackend, BackendConfig, ConfigError, CurrentUser, JwtStrategy,
        KeySource, Lifetime, OptionalUser, Superuser, Transport, Verified,
    };
}
