//! [`Warden`]: the application state that holds the backends and the manager, and
//! serves the routes.

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::HeaderMap;

use crate::backend::{AuthBackend, KeySource, SessionConfig, StrategyConfig};
use crate::dev::{DevSecretOrigin, load_or_create_secret};
use crate::error::{ApiError, ConfigError, ErrorCode};
use crate::manager::{ActionTokens, DefaultEvents, TokenSettings, UserEvents, UserManager};
use crate::model::UserModel;
#[cfg(feature = "oauth")]
use crate::oauth::{
    Endpoints, OAuthClient, OAuthOptions, OAuthProvider, OAuthRoute, ProviderClient, Sealer,
    StateCodec,
};
use crate::password::PasswordHasher;
use crate::routes::Routers;
use crate::store::{CacheSettings, CachedStore, UserStore};
#[cfg(feature = "redis")]
use crate::strategy::RedisStrategy;
use crate::strategy::{CachedJwt, DatabaseStrategy, Strategy};
use crate::throttle::{MemoryCounters, Throttle, ThrottleSettings, TrustedProxies};
use crate::token::JwtStrategy;
use crate::transport::{BearerTransport, Transport};
use crate::user::User;

/// How many verified tokens each JWT backend remembers.
const VERIFIED_TOKENS: u64 = 10_000;

/// The authentication state of an application whose users are of model `U`. Cheap
/// to clone; give it to axum with `.with_state(warden)`, or put it in your own state
/// and implement [`AuthState`](crate::AuthState) for that.
pub struct Warden<U: UserModel = User> {
    pub(crate) inner: Arc<Inner<U>>,
}

impl<U: UserModel> Clone for Warden<U> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

pub(crate) struct Inner<U: UserModel> {
    manager: UserManager<U>,
    backends: Vec<BackendEntry>,
    requires_verification: bool,
    pub(crate) docs: bool,
    pub(crate) app_api: Option<utoipa::openapi::OpenApi>,
    pub(crate) routers: Routers,
    allowed_origins: Vec<String>,
    current_password: bool,
    throttle: Option<Throttle>,
    proxies: TrustedProxies,
    #[cfg(feature = "oauth")]
    pub(crate) oauth: Vec<OAuthRoute>,
    #[cfg(feature = "oauth")]
    oauth_extra: Option<fn() -> U::Create>,
}

/// A backend as the warden runs it: a name, a strategy, a transport and how long
/// its logins last.
pub(crate) struct BackendEntry {
    pub(crate) name: String,
    pub(crate) strategy: Arc<dyn Strategy>,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) sessions: SessionConfig,
}

impl BackendEntry {
    /// The end of a session that starts at `created_at`.
    pub(crate) fn max_age(&self, created_at: i64) -> Option<i64> {
        self.sessions
            .max_age
            .map(|age| created_at.saturating_add(i64::try_from(age).unwrap_or(i64::MAX)))
    }
}

/// A backend as added to the builder: a database strategy needs the store, which
/// may come later.
struct BackendSlot {
    name: String,
    strategy: Pending,
    transport: Arc<dyn Transport>,
    sessions: SessionConfig,
}

enum Pending {
    Ready(Arc<dyn Strategy>),
    Database(crate::token::Lifetime),
}

/// Sessions of a backend built by hand: 7 days at most, unless its tokens never
/// expire.
fn sessions_for(lifetime: Option<u64>) -> SessionConfig {
    SessionConfig {
        max_age: lifetime.and(SessionConfig::DEFAULT.max_age),
        ..SessionConfig::DEFAULT
    }
}

impl<U: UserModel> std::fmt::Debug for Warden<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Warden")
            .field("model", &U::NAME)
            .field(
                "backends",
                &self
                    .inner
                    .backends
                    .iter()
                    .map(|b| &b.name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl<U: UserModel> Warden<U> {
    /// Starts configuring. With warden's own [`User`] write `Warden::builder()` where
    /// the type is known from context (`let warden: Warden = ...`), and
    /// `Warden::<Member>::builder()` for a model of your own.
    pub fn builder() -> WardenBuilder<U> {
        WardenBuilder::default()
    }

    /// The user manager.
    pub fn manager(&self) -> &UserManager<U> {
        &self.inner.manager
    }

    /// The JWT strategy of the backend named `name`, if that backend uses one.
    pub fn strategy(&self, name: &str) -> Option<&JwtStrategy> {
        let strategy: &dyn std::any::Any = self.backend(name)?.strategy.as_ref();
        strategy
            .downcast_ref::<CachedJwt>()
            .map(CachedJwt::jwt)
            .or_else(|| strategy.downcast_ref::<JwtStrategy>())
    }

    /// The backends' names, in the order they are tried.
    pub fn backend_names(&self) -> impl Iterator<Item = &str> {
        self.inner.backends.iter().map(|b| b.name.as_str())
    }

    pub(crate) fn backend(&self, name: &str) -> Option<&BackendEntry> {
        self.inner.backends.iter().find(|b| b.name == name)
    }

    pub(crate) fn backends(&self) -> &[BackendEntry] {
        &self.inner.backends
    }

    /// The user a request authenticates as, trying the backends in order (or only
    /// `only`). A missing, malformed, expired or foreign token, or a `sub` naming no
    /// user, is `Ok(None)`; only a store failure is an error.
    pub async fn current_user(
        &self,
        headers: &HeaderMap,
        only: Option<&str>,
    ) -> Result<Option<U>, crate::error::ApiError> {
        Ok(crate::authn::authenticate(self, headers, only)
            .await?
            .map(|found| found.user))
    }

    /// 400 with `code`'s text: FastAPI Users' code, or the application's
    /// ([`WardenBuilder::error_text`]).
    pub(crate) fn error(&self, code: ErrorCode) -> ApiError {
        self.inner.routers.error_texts.error(code)
    }

    /// 400 with `code`'s text and the reason, FastAPI Users' form for refused
    /// passwords.
    pub(crate) fn error_with_reason(&self, code: ErrorCode, reason: impl Into<String>) -> ApiError {
        self.inner
            .routers
            .error_texts
            .error_with_reason(code, reason)
    }

    /// The public keys of every backend that signs with a public-key algorithm (RS*,
    /// PS*, ES*, EdDSA), as served at `GET /.well-known/jwks.json`: each with its
    /// `kid` (RFC 7638 thumbprint), `alg` and `use`. HMAC secrets are never in it.
    pub fn jwks(&self) -> jsonwebtoken::jwk::JwkSet {
        jsonwebtoken::jwk::JwkSet {
            keys: self
                .backend_names()
                .filter_map(|name| self.strategy(name))
                .flat_map(JwtStrategy::public_jwks)
                .collect(),
        }
    }

    /// The OAuth login router served at `/auth/{route}`, or with `associate` the
    /// associate router at `/auth/associate/{route}`.
    #[cfg(feature = "oauth")]
    pub(crate) fn oauth_route(&self, route: &str, associate: bool) -> Option<&OAuthRoute> {
        self.inner
            .oauth
            .iter()
            .find(|oauth| oauth.route == route && oauth.backend.is_none() == associate)
    }

    /// The provider's tokens of `user`'s account at the client of the OAuth router
    /// `route`, if that router keeps them
    /// ([`OAuthOptions::store_provider_tokens`]): for the application's own calls to
    /// the provider. `None` when the user has no such account, or its tokens were
    /// not kept.
    #[cfg(feature = "oauth")]
    pub async fn provider_tokens(
        &self,
        route: &str,
        user: &U,
    ) -> Result<Option<crate::oauth::ProviderTokens>, crate::StoreError> {
        let Some(oauth) = self
            .oauth_route(route, false)
            .or(self.oauth_route(route, true))
        else {
            return Ok(None);
        };
        let (Some(sealer), Some(accounts)) =
            (&oauth.sealer, self.manager().store().oauth_accounts())
        else {
            return Ok(None);
        };
        let Some(account) = accounts
            .of_user(&oauth.client.name, &user.id().to_string())
            .await?
        else {
            return Ok(None);
        };
        let context = format!("{}:{}", account.oauth_name, account.account_id);
        let Some(access_token) = sealer.open(&account.access_token, &context) else {
            return Ok(None);
        };
        Ok(Some(crate::oauth::ProviderTokens {
            access_token,
            refresh_token: account
                .refresh_token
                .and_then(|refresh| sealer.open(&refresh, &context)),
            expires_at: account.expires_at,
        }))
    }

    /// The extra fields of a user created through a provider.
    #[cfg(feature = "oauth")]
    pub(crate) fn oauth_extra(&self) -> Option<fn() -> U::Create> {
        self.inner.oauth_extra
    }

    /// The login throttle, unless turned off.
    pub(crate) fn throttle(&self) -> Option<&Throttle> {
        self.inner.throttle.as_ref()
    }

    /// The client address of a request: the socket peer, or behind
    /// [trusted proxies](WardenBuilder::trusted_proxies) the address they forwarded.
    pub(crate) fn client_address(
        &self,
        extensions: &axum::http::Extensions,
        headers: &HeaderMap,
    ) -> Option<std::net::IpAddr> {
        crate::throttle::client_address(extensions, headers, &self.inner.proxies)
    }

    /// Whether `PATCH /users/me` needs `current_password` to change the password, the
    /// e-mail or the login ([`WardenBuilder::require_current_password`]).
    pub fn requires_current_password(&self) -> bool {
        self.inner.current_password
    }

    /// The other origins whose pages may send cookie-authenticated requests that
    /// change state ([`WardenBuilder::allowed_origins`]).
    pub fn allowed_origins(&self) -> &[String] {
        &self.inner.allowed_origins
    }

    /// Whether login and the users routes require a verified user (FastAPI Users'
    /// `requires_verification`).
    pub fn requires_verification(&self) -> bool {
        self.inner.requires_verification
    }
}

/// Configures a [`Warden`]. `store` and at least one backend are required.
pub struct WardenBuilder<U: UserModel = User> {
    store: Option<Arc<dyn UserStore<U>>>,
    backends: Vec<BackendSlot>,
    events: Option<Arc<dyn UserEvents<U>>>,
    cache: CacheSettings,
    hasher: Option<PasswordHasher>,
    dev_secret_file: Option<PathBuf>,
    reset: Option<TokenSettings>,
    verify: Option<TokenSettings>,
    requires_verification: bool,
    no_docs: bool,
    app_api: Option<utoipa::openapi::OpenApi>,
    routers: Routers,
    allowed_origins: Vec<String>,
    current_password: bool,
    throttle: Option<ThrottleSettings>,
    proxies: TrustedProxies,
    #[cfg(feature = "oauth")]
    oauth: Vec<PendingOAuth>,
    #[cfg(feature = "oauth")]
    oauth_extra: Option<fn() -> U::Create>,
    clock: crate::clock::Clock,
    security_events: Option<Arc<dyn crate::audit::SecuritySink>>,
    /// `.clock(...)` came after a backend, whose strategy has the other clock.
    late_clock: bool,
}

/// An OAuth router as added: its provider client is built at `build()`.
#[cfg(feature = "oauth")]
struct PendingOAuth {
    route: String,
    backend: Option<String>,
    /// The declared client, so that its routers share one provider client.
    client_type: std::any::TypeId,
    client: Arc<ProviderClient>,
    options: OAuthOptions,
}

impl<U: UserModel> Default for WardenBuilder<U> {
    fn default() -> Self {
        Self {
            store: None,
            backends: Vec::new(),
            events: None,
            cache: CacheSettings::default(),
            hasher: None,
            dev_secret_file: None,
            reset: None,
            verify: None,
            requires_verification: false,
            no_docs: false,
            app_api: None,
            routers: Routers::default(),
            allowed_origins: Vec::new(),
            current_password: false,
            throttle: Some(ThrottleSettings::default()),
            proxies: TrustedProxies::default(),
            #[cfg(feature = "oauth")]
            oauth: Vec::new(),
            #[cfg(feature = "oauth")]
            oauth_extra: None,
            clock: crate::clock::Clock::system(),
            security_events: None,
            late_clock: false,
        }
    }
}

impl<U: UserModel> WardenBuilder<U> {
    /// Sends security events (sign-ins and their refusals, logouts, ended sessions,
    /// password and e-mail changes, refresh-token reuse, linked accounts, throttled
    /// logins) to `sink`, off the request: a slow or failing sink never slows or
    /// fails one. They carry personal data (addresses, user agents, e-mails).
    ///
    /// ```
    /// use warden_runtime::audit::{SecurityEvent, SecuritySink};
    /// use warden_runtime::{async_trait, JwtStrategy, Lifetime, MemoryStore, User, Warden};
    /// struct Log;
    /// #[async_trait]
    /// impl SecuritySink for Log {
    ///     async fn record(&self, at: i64, event: &SecurityEvent) {
    ///         tracing::info!(at, event = ?event, "security event");
    ///     }
    /// }
    /// let jwt = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(60)).build()?;
    /// let warden = Warden::<User>::builder()
    ///     .store(MemoryStore::new())
    ///     .strategy("jwt", jwt)
    ///     .security_events(Log)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn security_events(mut self, sink: impl crate::audit::SecuritySink) -> Self {
        self.security_events = Some(Arc::new(sink));
        self
    }

    /// Measures every expiry (tokens, sessions, refresh tokens, re-authentication)
    /// on `clock`, so that a test moves time instead of sleeping. Only with the
    /// `test-clock` feature; call it before adding backends.
    ///
    /// ```
    /// use warden_runtime::{Clock, JwtStrategy, Lifetime, MemoryStore, User, Warden};
    /// let clock = Clock::manual(1_900_000_000);
    /// let jwt = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(60)).build()?;
    /// let warden = Warden::<User>::builder()
    ///     .clock(clock.clone())
    ///     .store(MemoryStore::new())
    ///     .strategy("jwt", jwt)
    ///     .build()?;
    /// clock.advance(61); // every token issued before now has expired
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "test-clock")]
    pub fn clock(mut self, clock: crate::clock::Clock) -> Self {
        self.late_clock |= !self.backends.is_empty();
        self.clock = clock;
        self
    }

    /// Where users live.
    pub fn store(mut self, store: impl UserStore<U>) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Where users live, shared with the application.
    pub fn shared_store(mut self, store: Arc<dyn UserStore<U>>) -> Self {
        self.store = Some(store);
        self
    }

    /// The user cache in front of the store (default: 10 000 users, 5 s; see
    /// [`CacheSettings`]).
    pub fn user_cache(mut self, settings: CacheSettings) -> Self {
        self.cache = settings;
        self
    }

    /// Lifecycle hooks and the password rule (default: [`DefaultEvents`]).
    pub fn events(mut self, events: impl UserEvents<U>) -> Self {
        self.events = Some(Arc::new(events));
        self
    }

    /// The password hasher (default: Argon2id with OWASP's parameters).
    pub fn password_hasher(mut self, hasher: PasswordHasher) -> Self {
        self.hasher = Some(hasher);
        self
    }

    /// Enables `POST /auth/forgot-password` and `POST /auth/reset-password`, with
    /// reset tokens signed by this secret (audience `fastapi-users:reset`).
    pub fn reset_password(mut self, settings: TokenSettings) -> Self {
        self.reset = Some(settings);
        self
    }

    /// Enables `POST /auth/request-verify-token` and `POST /auth/verify`, with
    /// verify tokens signed by this secret (audience `fastapi-users:verify`).
    pub fn verification(mut self, settings: TokenSettings) -> Self {
        self.verify = Some(settings);
        self
    }

    /// Unverified users cannot log in (`LOGIN_USER_NOT_VERIFIED`) and get 403 from
    /// logout, refresh and the users routes (FastAPI Users' `requires_verification`).
    pub fn requires_verification(mut self, required: bool) -> Self {
        self.requires_verification = required;
        self
    }

    /// Whether [`Warden::routes`] serves FastAPI Users' register router,
    /// `POST /auth/register` (default: yes). Without it users come from
    /// [`UserManager::seed`], `warden create-superuser` or a route of your own.
    pub fn register_router(mut self, serve: bool) -> Self {
        self.routers.register = serve;
        self
    }

    /// Whether [`Warden::routes`] serves FastAPI Users' users router,
    /// `GET | PATCH /users/me` and `GET | PATCH | DELETE /users/{id}` (default: yes).
    /// Leave it out to serve `/users/me` yourself.
    ///
    /// ```
    /// use warden_runtime::{JwtStrategy, Lifetime, MemoryStore, User, Warden};
    /// let jwt = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(60)).build()?;
    /// let warden = Warden::<User>::builder()
    ///     .store(MemoryStore::new())
    ///     .strategy("jwt", jwt)
    ///     .register_router(false)
    ///     .users_router(false)
    ///     .build()?;
    /// assert!(warden.route_table().iter().all(|(_, path, _)| !path.starts_with("/users")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn users_router(mut self, serve: bool) -> Self {
        self.routers.users = serve;
        self
    }

    /// Serves the built-in route with FastAPI Users' route name `operation`
    /// (`auth:jwt.login`, `register:register`, `users:current_user`, ...; `/docs`
    /// shows it as the summary) at `path` instead of FastAPI Users' path. The
    /// OpenAPI document, and Swagger UI's Authorize (`tokenUrl`) for a login route,
    /// follow. An unknown operation or a path two routes would share stops
    /// [`build`](Self::build).
    ///
    /// ```
    /// use warden_runtime::{Lifetime, JwtStrategy, MemoryStore, User, Warden};
    /// let jwt = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(60)).build()?;
    /// let warden = Warden::<User>::builder()
    ///     .store(MemoryStore::new())
    ///     .strategy("jwt", jwt)
    ///     .route_path("auth:jwt.login", "/login")
    ///     .build()?;
    /// assert!(warden.route_table().iter().any(|(method, path, _)| method == "POST" && path == "/login"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn route_path(mut self, operation: impl Into<String>, path: impl Into<String>) -> Self {
        self.routers.paths.insert(operation.into(), path.into());
        self
    }

    /// Answers FastAPI Users' error `code` with `text` instead of the code itself,
    /// in every built-in route and in the OpenAPI document's examples (status and
    /// shape stay FastAPI Users': 400 `{"detail": text}`).
    ///
    /// ```
    /// use warden_runtime::{ErrorCode, Lifetime, JwtStrategy, MemoryStore, User, Warden};
    /// let jwt = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(60)).build()?;
    /// let warden = Warden::<User>::builder()
    ///     .store(MemoryStore::new())
    ///     .strategy("jwt", jwt)
    ///     .error_text(ErrorCode::LoginBadCredentials, "Invalid credentials")
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn error_text(mut self, code: ErrorCode, text: impl Into<String>) -> Self {
        self.routers.error_texts.set(code, text);
        self
    }

    /// Login throttling's limits (on by default with [`ThrottleSettings::default`]:
    /// 100 failed logins per account and 300 per client address an hour, 30
    /// forgot-password or verify requests per address). Past a limit the route
    /// answers 429 `{"detail": "Too Many Requests"}` with `Retry-After`, without
    /// checking the password; the counts live in the store's database, so they hold
    /// across instances. `None` turns throttling off.
    ///
    /// ```
    /// use warden_runtime::{JwtStrategy, Lifetime, MemoryStore, ThrottleSettings, TrustedProxies, User, Warden};
    /// let jwt = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(60)).build()?;
    /// let warden = Warden::<User>::builder()
    ///     .store(MemoryStore::new())
    ///     .strategy("jwt", jwt)
    ///     .throttle(ThrottleSettings { per_account: 20, ..ThrottleSettings::default() })
    ///     .trusted_proxies(TrustedProxies::parse(["10.0.0.0/8"])?)
    ///     .allowed_origins(["https://admin.example.com"])
    ///     .require_current_password(true)
    ///     .build()?;
    /// assert!(warden.requires_current_password());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn throttle(mut self, settings: impl Into<Option<ThrottleSettings>>) -> Self {
        self.throttle = settings.into();
        self
    }

    /// The proxies (load balancers) in front of the application: behind them the
    /// client address that throttling counts is the one they forward in
    /// `X-Forwarded-For`. Without them it is the socket's peer, and the header (which
    /// any client can send) is ignored.
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// Whether `PATCH /users/me` needs the user's `current_password` beside a new
    /// password, e-mail or login (ASVS 6.2.3: re-authentication before changing the
    /// credentials, so a stolen session cannot take the account over). Off by
    /// default, as FastAPI Users has no such field; a superuser's
    /// `PATCH /users/{id}` never needs it.
    pub fn require_current_password(mut self, required: bool) -> Self {
        self.current_password = required;
        self
    }

    /// Origins besides the application's own (`https://admin.example.com`, exactly as
    /// browsers send them in `Origin`) whose pages may send requests that change state
    /// with a cookie transport's cookie: logout, refresh, the cookie login, and
    /// `POST`/`PATCH`/`PUT`/`DELETE` to guarded routes. Other origins get 403 (CSRF,
    /// OWASP's "verifying origin with standard headers"). Requests without `Origin` or
    /// `Sec-Fetch-Site` (not from a browser), and bearer-token requests, pass.
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_origins.extend(
            origins
                .into_iter()
                .map(|origin| origin.into().trim_end_matches('/').to_owned()),
        );
        self
    }

    /// Whether [`Warden::routes`] serves the OpenAPI document at `/openapi.json` and
    /// Swagger UI at `/docs` (default: yes, as FastAPI does; Swagger UI needs the
    /// cargo feature `docs`, on by default).
    pub fn docs(mut self, serve: bool) -> Self {
        self.no_docs = !serve;
        self
    }

    /// The application's own operations, shown in `/docs` beside warden's: typically
    /// from utoipa-axum's `OpenApiRouter::split_for_parts`. Handlers with both
    /// `#[protected]` and `#[utoipa::path]` appear with the lock of every backend and
    /// their 401 and 403 answers.
    pub fn openapi(mut self, api: utoipa::openapi::OpenApi) -> Self {
        self.app_api = Some(match self.app_api.take() {
            Some(mut existing) => {
                existing.merge(api);
                existing
            }
            None => api,
        });
        self
    }

    /// For development only: when an HS* backend's `env(...)` secret is unset, use
    /// the secret in `path`, generating a random 512-bit one there on first use
    /// (mode 0600) and saying so in the log. Call before [`backend`](Self::backend).
    pub fn dev_secret_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.dev_secret_file = Some(path.into());
        self
    }

    /// Adds a backend declared with `#[auth_backend]`, reading its keys now: a
    /// missing or bad key is an error here, at startup.
    pub fn backend<B: AuthBackend>(mut self) -> Result<Self, ConfigError> {
        let config = B::CONFIG;
        let strategy: Pending = match config.strategy {
            StrategyConfig::Jwt => Pending::Ready(Arc::new(CachedJwt::new(
                self.jwt_of::<B>()?,
                VERIFIED_TOKENS,
            ))),
            StrategyConfig::Database => Pending::Database(config.lifetime),
            // `#[auth_backend]` refuses this at compile time; a hand-written config
            // gets the same advice at startup.
            #[cfg(not(feature = "redis"))]
            StrategyConfig::Redis { .. } => {
                return Err(ConfigError::BadOption {
                    backend: config.name.to_owned(),
                    option: "strategy",
                    problem: "\"redis\" needs warden's `redis` cargo feature \
                              (warden = { version = \"...\", features = [\"redis\"] })"
                        .into(),
                });
            }
            #[cfg(feature = "redis")]
            StrategyConfig::Redis { url } => {
                let url = url.read(config.name, "redis_url")?;
                let url =
                    std::str::from_utf8(url.expose()).map_err(|_| ConfigError::BadOption {
                        backend: config.name.to_owned(),
                        option: "redis_url",
                        problem: "is not UTF-8 text; write redis://host:6379/0".into(),
                    })?;
                let redis =
                    RedisStrategy::open(url, config.lifetime).map_err(|error| match error {
                        ConfigError::BadOption {
                            option, problem, ..
                        } => ConfigError::BadOption {
                            backend: config.name.to_owned(),
                            option,
                            problem,
                        },
                        other => other,
                    })?;
                Pending::Ready(Arc::new(redis))
            }
        };
        self.backends.push(BackendSlot {
            name: config.name.to_owned(),
            strategy,
            transport: config.transport.build(),
            sessions: config.sessions,
        });
        Ok(self)
    }

    /// The JWT strategy of a declared backend, its keys read now (or the
    /// development secret's).
    fn jwt_of<B: AuthBackend>(&self) -> Result<JwtStrategy, ConfigError> {
        let config = B::CONFIG;
        Ok(match (config.secret, &self.dev_secret_file) {
            (KeySource::Env(var), Some(path))
                if config.algorithm.is_hmac()
                    && std::env::var_os(var).is_none_or(|v| v.is_empty()) =>
            {
                let (secret, origin) = load_or_create_secret(path)?;
                let how = match origin {
                    DevSecretOrigin::Created => "generated a random secret and saved it to",
                    DevSecretOrigin::Reused => "using the development secret saved in",
                };
                tracing::warn!(
                    "backend `{}`: {var} is not set; {how} {} (owner-only). Set {var} in production.",
                    config.name,
                    path.display()
                );
                config.strategy_with_secret(secret)?
            }
            _ => B::strategy()?,
        }
        .with_clock(self.clock.clone()))
    }

    /// Serves FastAPI Users' OAuth login router for client `C` (declared with
    /// `#[oauth_client]`) at `/auth/{name}/authorize` and `/auth/{name}/callback`;
    /// the callback logs users in through backend `B`. Reads the client's settings
    /// now: a missing one is an error here, at startup. The provider is asked on
    /// first use, so an application starts while it is down.
    ///
    /// ```no_run
    /// # use warden_runtime::*;
    /// # use warden_runtime::oauth::*;
    /// # struct Jwt; impl AuthBackend for Jwt { const CONFIG: BackendConfig = BackendConfig {
    /// #   name: "jwt", lifetime: Lifetime::Seconds(3600), algorithm: Algorithm::HS256,
    /// #   secret: KeySource::Literal("a-secret-of-at-least-thirty-two-bytes"), public_key: None,
    /// #   verify_keys: &[], audience: &["fastapi-users:auth"], transport: TransportConfig::Bearer,
    /// #   strategy: StrategyConfig::Jwt, sessions: SessionConfig::DEFAULT }; }
    /// struct Corporate;
    /// impl OAuthClient for Corporate {
    ///     const CONFIG: OAuthClientConfig = OAuthClientConfig {
    ///         name: "oidc",
    ///         provider: OAuthProvider::OpenIdConnect { issuer: KeySource::Env("OIDC_ISSUER") },
    ///         client_id: KeySource::Env("OIDC_CLIENT_ID"),
    ///         client_secret: KeySource::Env("OIDC_CLIENT_SECRET"),
    ///         scopes: &["openid", "email"],
    ///     };
    /// }
    /// let warden = Warden::<User>::builder()
    ///     .store(MemoryStore::new())
    ///     .backend::<Jwt>()?
    ///     .oauth::<Corporate, Jwt>(OAuthOptions::new("https://app.example.com", "a-state-secret-of-at-least-32-bytes!!"))?
    ///     .build()?;
    /// # Ok::<(), ConfigError>(())
    /// ```
    #[cfg(feature = "oauth")]
    pub fn oauth<C: OAuthClient, B: AuthBackend>(
        mut self,
        options: OAuthOptions,
    ) -> Result<Self, ConfigError>
    where
        U::Create: Default,
    {
        self.push_oauth::<C>(Some(B::CONFIG.name.to_owned()), options)?;
        self.oauth_extra = Some(U::Create::default);
        Ok(self)
    }

    /// Serves FastAPI Users' OAuth associate router for client `C` at
    /// `/auth/associate/{name}/authorize` and `/callback`: a logged-in user links a
    /// provider account to themself (an account linked to another user is refused).
    #[cfg(feature = "oauth")]
    pub fn oauth_associate<C: OAuthClient>(
        mut self,
        options: OAuthOptions,
    ) -> Result<Self, ConfigError> {
        self.push_oauth::<C>(None, options)?;
        Ok(self)
    }

    /// Reads client `C`'s settings now and adds its router.
    #[cfg(feature = "oauth")]
    fn push_oauth<C: OAuthClient>(
        &mut self,
        backend: Option<String>,
        options: OAuthOptions,
    ) -> Result<(), ConfigError> {
        let config = C::CONFIG;
        let route = options
            .route
            .clone()
            .unwrap_or_else(|| config.name.to_owned());
        // Routers of one client share it: one HTTP client, one discovery document,
        // one set of provider keys.
        let client_type = std::any::TypeId::of::<C>();
        if let Some(shared) = self
            .oauth
            .iter()
            .find(|pending| pending.client_type == client_type)
        {
            let client = Arc::clone(&shared.client);
            self.oauth.push(PendingOAuth {
                route,
                backend,
                client_type,
                client,
                options,
            });
            return Ok(());
        }
        let text = |source: KeySource, option: &'static str| -> Result<String, ConfigError> {
            let secret = source.read(config.name, option)?;
            String::from_utf8(secret.expose().to_vec()).map_err(|_| ConfigError::BadOption {
                backend: config.name.to_owned(),
                option,
                problem: "is not UTF-8 text".into(),
            })
        };
        let endpoints = match config.provider {
            OAuthProvider::OpenIdConnect { issuer } => Endpoints::Oidc {
                issuer: text(issuer, "issuer")?,
            },
            OAuthProvider::GitHub { web, api } => Endpoints::GitHub {
                web: text(web, "github_url")?,
                api: text(api, "github_api_url")?,
            },
        };
        let client_id = text(config.client_id, "client_id")?;
        let client_secret = config.client_secret.read(config.name, "client_secret")?;
        let client = ProviderClient::new(
            config.name,
            endpoints,
            client_id,
            client_secret,
            config
                .scopes
                .iter()
                .map(|scope| (*scope).to_owned())
                .collect(),
        )?;
        self.oauth.push(PendingOAuth {
            route,
            backend,
            client_type,
            client: Arc::new(client),
            options,
        });
        Ok(())
    }

    /// Adds a bearer backend with a JWT strategy built by hand.
    pub fn strategy(self, name: impl Into<String>, strategy: JwtStrategy) -> Self {
        let strategy = strategy.with_clock(self.clock.clone());
        self.custom_backend(
            name,
            CachedJwt::new(strategy, VERIFIED_TOKENS),
            BearerTransport,
        )
    }

    /// Adds a backend of any strategy and transport, yours included: it gets the
    /// same login, logout and refresh routes as a declared one.
    ///
    /// ```
    /// use warden_runtime::{BearerTransport, JwtStrategy, Lifetime, MemoryStore, User, Warden};
    /// let jwt = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(60)).build()?;
    /// let warden = Warden::<User>::builder()
    ///     .store(MemoryStore::new())
    ///     .custom_backend("api", jwt, BearerTransport)
    ///     .build()?;
    /// assert_eq!(warden.backend_names().collect::<Vec<_>>(), ["api"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn custom_backend(
        mut self,
        name: impl Into<String>,
        strategy: impl Strategy,
        transport: impl Transport,
    ) -> Self {
        let sessions = sessions_for(strategy.lifetime());
        self.backends.push(BackendSlot {
            name: name.into(),
            strategy: Pending::Ready(Arc::new(strategy)),
            transport: Arc::new(transport),
            sessions,
        });
        self
    }

    /// Checks the whole configuration and builds.
    pub fn build(self) -> Result<Warden<U>, ConfigError> {
        if self.late_clock {
            return Err(ConfigError::Mismatch(
                "call .clock(...) before adding backends, so that their tokens use it".into(),
            ));
        }
        let store = self.store.ok_or(ConfigError::Incomplete(
            "no user store: add .store(SqliteStore::open(\"sqlite://warden.db\").await?)",
        ))?;
        if self.backends.is_empty() {
            return Err(ConfigError::Incomplete(
                "no authentication backend: add .backend::<YourBackend>()? for a struct declared with #[auth_backend]",
            ));
        }
        for (i, backend) in self.backends.iter().enumerate() {
            let valid = !backend.name.is_empty()
                && backend.name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                });
            if !valid {
                return Err(ConfigError::BadOption {
                    backend: backend.name.clone(),
                    option: "name",
                    problem: "must be a URL path segment of a-z, 0-9, `_` and `-`".into(),
                });
            }
            if self.backends[..i]
                .iter()
                .any(|other| other.name == backend.name)
            {
                return Err(ConfigError::DuplicateBackend(backend.name.clone()));
            }
        }
        let hasher = match self.hasher {
            Some(hasher) => hasher,
            None => PasswordHasher::new()?,
        };
        if !U::HAS_EMAIL && (self.reset.is_some() || self.verify.is_some()) {
            return Err(ConfigError::Mismatch(format!(
                "{} has no e-mail to send reset or verify tokens to: remove .reset_password(...) and .verification(...), or declare #[user_model(login = {}, email)]",
                U::NAME,
                U::LOGIN
            )));
        }
        let throttle = self.throttle.map(|settings| {
            let counters = store.counters().unwrap_or_else(|| {
                if store.shared() {
                    tracing::warn!(
                        "the user store is shared but keeps no throttling counters: each instance counts failed logins alone"
                    );
                }
                Arc::new(MemoryCounters::default())
            });
            Throttle::new(counters, settings)
        });
        let mut backends = Vec::with_capacity(self.backends.len());
        for slot in self.backends {
            let strategy: Arc<dyn Strategy> = match slot.strategy {
                Pending::Ready(strategy) => strategy,
                Pending::Database(lifetime) => {
                    let tokens = store.access_tokens().ok_or_else(|| ConfigError::BadOption {
                        backend: slot.name.clone(),
                        option: "strategy",
                        problem: "\"database\" keeps tokens in the user store's database, and this store has none: use SqliteStore, PostgresStore or DatabaseStore".into(),
                    })?;
                    Arc::new(DatabaseStrategy::new(tokens, lifetime).with_clock(self.clock.clone()))
                }
            };
            backends.push(BackendEntry {
                name: slot.name,
                strategy,
                transport: slot.transport,
                sessions: slot.sessions,
            });
        }
        #[cfg(feature = "oauth")]
        let mut oauth = Vec::with_capacity(self.oauth.len());
        #[cfg(feature = "oauth")]
        for pending in self.oauth {
            if let Some(backend) = &pending.backend
                && !backends.iter().any(|entry| entry.name == *backend)
            {
                return Err(ConfigError::Mismatch(format!(
                    "oauth router `{}` logs in through backend `{backend}`, which is not added: add .backend::<...>()? for it first",
                    pending.route
                )));
            }
            if U::LOGIN != "email" {
                return Err(ConfigError::Mismatch(format!(
                    "oauth router `{}`: {} logs in with `{}`, which a provider does not give: OAuth needs a model that logs in with its e-mail",
                    pending.route,
                    U::NAME,
                    U::LOGIN
                )));
            }
            if store.oauth_accounts().is_none() {
                return Err(ConfigError::Mismatch(format!(
                    "oauth router `{}`: the user store keeps no oauth_account table: use SqliteStore, PostgresStore or DatabaseStore",
                    pending.route
                )));
            }
            if pending.options.state_secret.expose().len() < 32 {
                return Err(ConfigError::Mismatch(format!(
                    "oauth router `{}`: the state secret has {} bytes; HS256 needs at least 32 (RFC 7518 §3.2)",
                    pending.route,
                    pending.options.state_secret.expose().len()
                )));
            }
            if oauth.iter().any(|other: &OAuthRoute| {
                other.route == pending.route && other.backend.is_none() == pending.backend.is_none()
            }) {
                return Err(ConfigError::Mismatch(format!(
                    "two oauth routers are at /auth/{}{}: give one OAuthOptions::route(\"...\")",
                    if pending.backend.is_none() {
                        "associate/"
                    } else {
                        ""
                    },
                    pending.route
                )));
            }
            let spent = store
                .counters()
                .unwrap_or_else(|| Arc::new(MemoryCounters::default()));
            let sealer = match &pending.options.token_key {
                Some(key) => Some(Sealer::new(key).ok_or_else(|| {
                    ConfigError::Mismatch(format!(
                        "oauth router `{}`: store_provider_tokens needs a 32-byte key (AES-256), this one has {} bytes",
                        pending.route,
                        key.expose().len()
                    ))
                })?),
                None => None,
            };
            oauth.push(OAuthRoute {
                state: StateCodec::new(pending.options.state_secret.clone()).ok_or_else(|| {
                    ConfigError::Mismatch(format!(
                        "oauth router `{}`: the state secret is not a usable HMAC key",
                        pending.route
                    ))
                })?,
                route: pending.route,
                backend: pending.backend,
                client: pending.client,
                options: pending.options,
                spent,
                sealer,
            });
        }
        let events = self.events.unwrap_or_else(|| Arc::new(DefaultEvents));
        let tokens = ActionTokens::new(self.reset, self.verify)?;
        let store: Arc<dyn UserStore<U>> = Arc::new(CachedStore::new(store, self.cache));
        let warden = Warden {
            inner: Arc::new(Inner {
                manager: UserManager::with_tokens(store, hasher, events, tokens)
                    .audited(match self.security_events {
                        Some(sink) => crate::audit::Audit::new(sink, self.clock.clone()),
                        None => crate::audit::Audit::default(),
                    })
                    .clocked(self.clock),
                backends,
                requires_verification: self.requires_verification,
                docs: !self.no_docs,
                app_api: self.app_api,
                routers: self.routers,
                allowed_origins: self.allowed_origins,
                current_password: self.current_password,
                throttle,
                proxies: self.proxies,
                #[cfg(feature = "oauth")]
                oauth,
                #[cfg(feature = "oauth")]
                oauth_extra: self.oauth_extra,
            }),
        };
        crate::routes::check_paths(&warden)?;
        Ok(warden)
    }
}
