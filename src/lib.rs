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
//!     let warden: Warden = Warden::builder()
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
//! - [`macro@user_model`] declares your own user: FastAPI Users' base fields plus
//!   yours, stored as columns, shown in the routes and the OpenAPI document.
//! - [`Transport`] and [`Strategy`] are the seams of a backend: add your own with
//!   [`WardenBuilder::custom_backend`].
//! - [`Warden`] holds the backends and the [`UserManager`], and serves the routes.
//! - Cargo features: `sqlite`, `serve` and `docs` are on by default; `postgres`,
//!   `redis` and `oauth` are opt-in (the README's "Features" table says what each
//!   brings).
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

/// Declares an OpenID Connect identity provider for "log in with ..." (Google,
/// Microsoft, Okta, Keycloak, Auth0: any issuer with discovery). Serve its login
/// router with `WardenBuilder::oauth`; see the README's "Log in with a provider".
/// Needs the cargo feature `oauth`: without it the declaration is a compile error
/// naming the feature.
///
/// | option | default | |
/// | --- | --- | --- |
/// | `name = "oidc"` | required | the route segment (`/auth/oidc/...`) and the stored `oauth_name` |
/// | `issuer = env(..)` / `file(..)` / `"https://..."` | required | the issuer URL (`{issuer}/.well-known/openid-configuration`) |
/// | `client_id = env(..)` / ... | required | as the provider gave it |
/// | `client_secret = env(..)` / ... | required | as the provider gave it |
/// | `scopes = ["openid", "email"]` | that list | must include `openid` |
///
// The examples run where the feature is on (`cargo test --workspace`).
#[cfg_attr(feature = "oauth", doc = "```")]
#[cfg_attr(not(feature = "oauth"), doc = "```ignore")]
/// use warden::{OAuthClient, oauth_client};
///
/// #[oauth_client(name = "oidc", issuer = env("OIDC_ISSUER"),
///                client_id = env("OIDC_CLIENT_ID"), client_secret = env("OIDC_CLIENT_SECRET"))]
/// pub struct Corporate;
///
/// assert_eq!(Corporate::CONFIG.scopes, ["openid", "email"]);
/// ```
///
#[cfg_attr(feature = "oauth", doc = "```compile_fail")]
#[cfg_attr(not(feature = "oauth"), doc = "```ignore")]
/// #[warden::oauth_client(name = "oidc", issuer = env("OIDC_ISSUER"), client_id = env("ID"),
///                        client_secret = env("SECRET"), scopes = ["email"])] // needs "openid"
/// pub struct Corporate;
/// ```
pub use warden_macros::oauth_client;

/// Guards an async axum handler and hands it the current user.
///
/// Flags: `active`, `verified`, `superuser`, `optional`, `fresh = N`, `mfa`,
/// `backend = Type`. The macro
/// adds a guard in front of the handler's parameters, which runs the request through
/// the pipeline (transport → strategy → store → policy); a parameter whose type is
/// the warden's user model (`User`, or your `#[user_model]`, whatever it is called)
/// then receives the admitted user, and with `optional` an `Option<Model>` parameter
/// receives it or `None`. With no such parameter the guard still runs. Body and
/// return type are untouched.
///
/// No token, a bad one, an unknown user or (with `active`) an inactive user: 401
/// `{"detail": "Unauthorized"}`. A failed `verified` or `superuser` check: 403
/// `{"detail": "Forbidden"}`. A model parameter under `optional`, or an
/// `Option<Model>` without it, is a compile error at that parameter.
///
/// Step-up ([`Fresh`], [`Mfa`]; RFC 9470): `fresh = N` admits a sign-in at most `N`
/// seconds old; `mfa` admits a session that passed a second factor (a TOTP or
/// recovery code, a passkey, a provider that checked one). Others get 401 and the
/// `insufficient_user_authentication` challenge, which a re-authentication answers.
/// Neither goes with `optional`, which would read a refusal as no user and never
/// send the challenge (a compile error).
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
/// #[protected(active, mfa, fresh = 300)]
/// async fn change_payout_account(user: User) -> String {
///     user.email
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
///     .route("/payout", get(change_payout_account))
///     .route("/greet", get(greet));
/// ```
pub use warden_macros::protected;

/// The application's roles: `#[derive(warden::Roles)]` on an enum of unit
/// variants, each a role named by its identifier in snake case (`ContentEditor` is
/// `content_editor`) or by `#[role("...")]`; at most 64. The user model holds them
/// in a field marked `#[user(roles)]`; `#[protected(active, role = Role::Editor)]`
/// or `any_role(Role::Editor, Role::Admin)` admits a user who holds one and refuses
/// others with 403 `{"detail": "Forbidden"}`. A superuser passes role guards only
/// with the role. Only `PATCH /users/{id}` (a superuser) and code
/// ([`UserModel::set_roles`](model::UserModel::set_roles)) change a user's roles.
///
/// ```
/// #[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
/// enum Role {
///     Admin,
///     ContentEditor,
///     #[role("billing:viewer")]
///     Billing,
/// }
/// use warden::role::Roles as _;
/// assert_eq!(Role::ContentEditor.name(), "content_editor");
/// assert_eq!(<Role as warden::role::Roles>::from_name("billing:viewer"), Some(Role::Billing));
/// ```
///
/// Every mistake is a compile error: a name with a space or a capital, a
/// duplicate, a variant with fields or a discriminant, more than 64 roles.
///
/// ```compile_fail
/// #[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
/// enum Role {
///     #[role("Content Editor")]
///     ContentEditor,
/// }
/// ```
pub use warden_macros::Roles;
/// The application's scopes: `#[derive(warden::Scopes)]` on an enum of unit
/// variants, each named with `#[scope("...")]` (RFC 6749 §3.3 scope-tokens).
/// [`WardenBuilder::scopes`] teaches them to the warden, so that a new API key's
/// scopes are checked; `#[protected(active, scope = Scope::ReportsRead)]` admits an
/// interactive session (which holds every scope) or a key created with that
/// scope, and refuses another key with 403 and `WWW-Authenticate: Bearer
/// error="insufficient_scope", scope="reports:read"` (RFC 6750 §3.1).
///
/// ```
/// #[derive(Clone, Copy, warden::Scopes)]
/// enum Scope {
///     #[scope("reports:read")]
///     ReportsRead,
///     #[scope("reports:write")]
///     ReportsWrite,
/// }
/// use warden::scope::Scopes as _;
/// assert_eq!(Scope::ReportsWrite.name(), "reports:write");
/// assert_eq!(<Scope as warden::scope::Scopes>::NAMES, ["reports:read", "reports:write"]);
/// ```
///
/// Every mistake is a compile error: a variant without a name, a duplicate, a
/// name with a space, a variant with fields or a discriminant.
///
/// ```compile_fail
/// #[derive(warden::Scopes)]
/// enum Scope {
///     ReportsRead,
/// }
/// ```
pub use warden_macros::Scopes;
/// Declares the application's user: FastAPI Users' base fields (`id`, `email`,
/// `hashed_password`, `is_active`, `is_superuser`, `is_verified`) plus its own, as
/// FastAPI Users' `SQLAlchemyBaseUserTableUUID` mixin does, and the field users log
/// in with.
///
/// `#[user_model]` (UUID ids, generated by warden) or `#[user_model(id = i64)]`
/// (integer ids, assigned by the database). Each field takes `#[user(...)]` flags:
///
/// | flag | meaning |
/// | --- | --- |
/// | `read` | in every user response (`UserRead`) |
/// | `create` | accepted by `POST /auth/register`; required unless an `Option` or defaulted |
/// | `update` | accepted by `PATCH /users/me` and `PATCH /users/{id}` |
/// | `default = lit` | the value when registration does not set it |
///
/// A field without `create` needs a `default` (or is an `Option`, `None` by
/// default). Field types: `String`, `bool`, `i16`, `i32`, `i64`, `f32`, `f64`, or an
/// `Option` of one; each is a column of its own in the `user` table. The macro also
/// writes `Clone`, `PartialEq`, `Debug` (the hash redacted), `Serialize` (as
/// `UserRead`), the `{Name}Create` / `{Name}Update` payloads of the extra fields,
/// and makes the model an axum extractor for `#[protected]` handlers.
///
/// ```
/// use axum::Json;
/// use warden::{UserModel, protected, user_model};
///
/// #[user_model(id = i64)]
/// pub struct Member {
///     #[user(read, create, update)]
///     pub first_name: String,
///     #[user(read, default = "free")]
///     pub plan: String,
///     #[user(read, create, update)]
///     pub nickname: Option<String>,
/// }
///
/// #[protected(active)]
/// async fn hello(user: Member) -> Json<String> {
///     Json(format!("Hello {} on {}", user.first_name, user.plan))
/// }
///
/// assert_eq!(Member::FIELDS.len(), 3);
/// ```
///
/// Users log in with their e-mail, as in FastAPI Users, unless `login = field` names
/// a `String` field to log in with instead (unique ignoring case, always read and
/// required at registration). Such a model has no e-mail (and so no password reset
/// or verification) unless `email` asks for one beside it:
///
/// ```
/// use warden::{UserModel, user_model};
///
/// #[user_model(login = username)]
/// pub struct Player {
///     pub username: String,
/// }
///
/// #[user_model(login = username, email)]
/// pub struct Staff {
///     pub username: String,
/// }
///
/// assert_eq!(Player::LOGIN, "username");
/// assert!(!Player::HAS_EMAIL && Staff::HAS_EMAIL);
/// ```
///
/// A mistake is a compile error at the offending token:
///
/// ```compile_fail
/// #[warden::user_model]
/// pub struct Member {
///     #[user(read)] // never set at registration: add `create`, a `default`, or make it an Option
///     pub plan: String,
/// }
/// ```
pub use warden_macros::user_model;
pub use warden_runtime::mailer::DevMailer;
pub use warden_runtime::second_factor;
pub use warden_runtime::signin;

// The root holds what the quickstart, the tutorial and a custom model name; the
// seams (strategies, transports, stores, tokens, the pipeline) live in the modules
// below, as in the runtime.
pub use warden_runtime::{
    Active, ApiError, Clock, ConfigError, CurrentUser, DefaultEvents, Error, ErrorCode, Fresh,
    MemoryStore, Mfa, OptionalUser, Superuser, ThrottleSettings, TokenSettings, TrustedProxies,
    User, UserCreate, UserEvents, UserId, UserModel, UserStore, Verified, Warden, WardenBuilder,
    async_trait, not_found,
};

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use warden_runtime::DatabaseStore;
#[cfg(feature = "postgres")]
pub use warden_runtime::PostgresStore;
#[cfg(feature = "sqlite")]
pub use warden_runtime::SqliteStore;
#[cfg(feature = "oauth")]
pub use warden_runtime::oauth::OAuthOptions;

/// Security events and their sink ([`WardenBuilder::security_events`]).
pub use warden_runtime::audit;
/// The request pipeline ([`Authenticator`](authn::Authenticator)) and the access rule.
pub use warden_runtime::authn;
/// Backends as declared by `#[auth_backend]`: [`AuthBackend`](backend::AuthBackend),
/// its configuration and key sources.
pub use warden_runtime::backend;
/// Errors: [`ApiError`], the texts of FastAPI Users' codes, field errors.
pub use warden_runtime::error;
/// Guards: [`CurrentUser`], the [`Policy`](guard::Policy) markers,
/// [`AuthState`](guard::AuthState) for an application's own state.
pub use warden_runtime::guard;
/// The user manager: registration, login, updates, reset and verification tokens.
pub use warden_runtime::manager;
/// Declaring users: [`UserModel`] and its fields.
pub use warden_runtime::model;
/// "Log in with ...": `#[oauth_client]` declarations and the routers' options.
pub use warden_runtime::oauth;
/// Passkeys (WebAuthn): [`Passkeys`](passkeys::Passkeys), for
/// [`WardenBuilder::passkeys`]. Cargo feature `passkeys`.
#[cfg(feature = "passkeys")]
pub use warden_runtime::passkeys;
/// Password hashing (Argon2id on a bounded pool; bcrypt and FastAPI Users' hashes
/// verified and upgraded).
pub use warden_runtime::password;
/// Roles ([`Roles`](role::Roles)) and the [`AnyRole`](role::AnyRole) policy.
pub use warden_runtime::role;
/// Scopes ([`Scopes`](scope::Scopes)), the [`Scoped`](scope::Scoped) and
/// [`Interactive`](scope::Interactive) policies.
pub use warden_runtime::scope;
/// Sessions: every login's, with its refresh tokens.
pub use warden_runtime::session;
/// Stores: the [`UserStore`] trait, its implementations, and every persistence
/// trait a third-party store implements.
pub use warden_runtime::store;
/// The strategy seam: how a backend writes, reads and destroys tokens.
pub use warden_runtime::strategy;
/// JWTs: [`JwtStrategy`](token::JwtStrategy), algorithms, keys and claims.
pub use warden_runtime::token;
/// The transport seam: where a token travels (bearer header, cookie).
pub use warden_runtime::transport;
/// Two-factor authentication's cryptography: TOTP codes and `otpauth://` URIs, the
/// QR code (feature `qr`), recovery codes.
pub use warden_runtime::two_factor;

// Names the root held before 0.2, now in their modules: still here so that code
// written against them compiles, hidden from the documentation.
#[doc(hidden)]
pub use warden_runtime::{
    Access, Algorithm, AuthBackend, AuthState, Authenticated, Backend, BackendConfig,
    BearerTransport, CacheSettings, CachedJwt, CookieSettings, CookieTransport, ErrorTexts,
    FieldError, Grant, InvalidPassword, Issued, JwtStrategy, JwtStrategyBuilder, KeySource,
    Lifetime, ManagerError, PasswordHasher, PasswordHasherConfig, Policy, SameSite, Secret,
    SessionConfig, StoreChange, StoreError, Strategy, StrategyConfig, StrategyError, TokenError,
    TokenInfo, Transport, TransportConfig, TransportDoc, UserManager, UserUpdate, VerifiedClaims,
    oauth::OAuthClient,
};

// Every Rust block of the README compiles (`cargo test --doc`); the servers are
// `no_run`. A README whose examples drift from the API fails the build.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The runtime crate, for what the facade does not re-export.
pub use warden_runtime as runtime;

#[cfg(feature = "serve")]
mod serve;
#[cfg(feature = "serve")]
pub use serve::{ServeConfig, serve, serve_on, serve_with};

/// What the macros' generated code names. Not public API: it may change in any
/// release.
#[doc(hidden)]
pub mod __private {
    pub use axum::Router;
    pub use warden_runtime::__private::*;
    pub use warden_runtime::guard::Backend;
    pub use warden_runtime::oauth::{OAuthClient, OAuthClientConfig, OAuthProvider};
    pub use warden_runtime::{
        Active, Algorithm, AuthBackend, BackendConfig, ConfigError, CookieSettings, CurrentUser,
        Fresh, JwtStrategy, KeySource, Lifetime, Mfa, OptionalUser, SameSite, SessionConfig,
        StrategyConfig, Superuser, TransportConfig, Verified, Warden,
    };
}
