//! [`WardenBuilder`]: reads and checks the whole configuration at startup, and
//! assembles the [`Warden`].

use std::path::PathBuf;
use std::sync::Arc;

use crate::authn::{Authenticator, BackendEntry};
use crate::backend::{AuthBackend, KeySource, SessionConfig, StrategyConfig};
use crate::dev::{DevSecretOrigin, load_or_create_secret};
use crate::error::{ConfigError, ErrorCode};
use crate::manager::{ActionTokens, DefaultEvents, TokenSettings, UserEvents, UserManager};
use crate::model::UserModel;
#[cfg(feature = "oauth")]
use crate::oauth::{OAuthClient, OAuthOptions, PendingOAuth};
use crate::password::PasswordHasher;
use crate::store::{CacheSettings, CachedStore, MemoryCounters, UserStore};
#[cfg(feature = "redis")]
use crate::strategy::RedisStrategy;
use crate::strategy::{CachedJwt, DatabaseStrategy, Strategy};
use crate::throttle::{Throttle, ThrottleSettings, TrustedProxies};
use crate::token::JwtStrategy;
use crate::transport::{BearerTransport, Transport};
use crate::user::User;
use crate::warden::{Inner, Routers, Warden};

/// How many verified tokens each JWT backend remembers.
const VERIFIED_TOKENS: u64 = 10_000;

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
    ApiKey,
}

/// Device cookies keyed by `secrets` (the current first), or by a random secret of
/// this process when none is configured.
fn device_cookies(
    secrets: &[crate::token::Secret],
    settings: &ThrottleSettings,
    shared: bool,
) -> Result<crate::throttle::DeviceCookies, ConfigError> {
    use crate::keyring::Keyring;
    let short = || {
        ConfigError::Mismatch(
            "device_cookie_secret needs at least 32 bytes (a previous secret too)".into(),
        )
    };
    let ring = match secrets.split_first() {
        Some((current, previous)) => previous
            .iter()
            .try_fold(Keyring::new(current).ok_or_else(short)?, |ring, old| {
                ring.previous(old)
            })
            .ok_or_else(short)?,
        None => {
            if shared {
                tracing::info!(
                    "no device_cookie_secret: each instance keys device cookies with its own random secret, so one set by another instance or before a restart is ignored"
                );
            }
            let random = crate::random::urlsafe::<32>().map_err(ConfigError::Mismatch)?;
            Keyring::new(&crate::token::Secret::from(random)).ok_or_else(short)?
        }
    };
    let lifetime = i64::try_from(settings.device_lifetime.as_secs()).unwrap_or(i64::MAX);
    Ok(crate::throttle::DeviceCookies::new(
        ring,
        lifetime,
        settings.device_cookie_secure,
    ))
}

/// Sessions of a backend built by hand: 7 days at most, unless its tokens never
/// expire.
fn sessions_for(lifetime: Option<u64>) -> SessionConfig {
    SessionConfig {
        max_age: lifetime.and(SessionConfig::DEFAULT.max_age),
        ..SessionConfig::DEFAULT
    }
}

impl<U: UserModel> Warden<U> {
    /// Starts configuring. With warden's own [`User`] write `Warden::builder()` where
    /// the type is known from context (`let warden: Warden = ...`), and
    /// `Warden::<Member>::builder()` for a model of your own.
    pub fn builder() -> WardenBuilder<U> {
        WardenBuilder::default()
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
    unlink_on_recovery: bool,
    throttle: Option<ThrottleSettings>,
    /// The device cookies' secret, then the ones rotated out.
    device_secrets: Vec<crate::token::Secret>,
    proxies: TrustedProxies,
    #[cfg(feature = "oauth")]
    oauth: Vec<PendingOAuth>,
    #[cfg(feature = "oauth")]
    oauth_extra: Option<fn() -> U::Create>,
    clock: crate::clock::Clock,
    security_events: Option<Arc<dyn crate::audit::SecuritySink>>,
    audit_trail: Option<crate::audit::AuditTrail>,
    /// `.clock(...)` came after a backend, whose strategy has the other clock.
    late_clock: bool,
    max_sessions: usize,
    two_factor: Option<crate::second_factor::TwoFactor>,
    #[cfg(feature = "passkeys")]
    passkeys: Option<crate::passkeys::Passkeys>,
    scopes: &'static [&'static str],
    scope_variants: &'static [&'static str],
    key_rate_limit: crate::strategy::KeyRateLimit,
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
            unlink_on_recovery: false,
            throttle: Some(ThrottleSettings::default()),
            device_secrets: Vec::new(),
            proxies: TrustedProxies::default(),
            #[cfg(feature = "oauth")]
            oauth: Vec::new(),
            #[cfg(feature = "oauth")]
            oauth_extra: None,
            clock: crate::clock::Clock::system(),
            security_events: None,
            audit_trail: None,
            late_clock: false,
            max_sessions: crate::session::DEFAULT_MAX_SESSIONS,
            two_factor: None,
            #[cfg(feature = "passkeys")]
            passkeys: None,
            scopes: &[],
            scope_variants: &[],
            key_rate_limit: crate::strategy::KeyRateLimit::default(),
        }
    }
}

impl<U: UserModel> WardenBuilder<U> {
    /// The application's scopes (an enum with `#[derive(warden::Scopes)]`): an API
    /// key is created with some of them (`POST /users/me/api-keys` refuses other
    /// names with 422, listing these), and `#[protected(scope = S::X)]` asks for
    /// one.
    ///
    /// ```
    /// use warden_runtime::scope::Scopes;
    /// use warden_runtime::{JwtStrategy, Lifetime, MemoryStore, User, Warden};
    /// #[derive(Clone, Copy)]
    /// enum Scope { ReportsRead }
    /// impl Scopes for Scope {
    ///     const NAMES: &'static [&'static str] = &["reports:read"];
    ///     fn name(&self) -> &'static str { Self::NAMES[*self as usize] }
    /// }
    /// let jwt = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(60)).build()?;
    /// let warden = Warden::<User>::builder()
    ///     .store(MemoryStore::new())
    ///     .strategy("jwt", jwt)
    ///     .scopes::<Scope>()
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scopes<S: crate::scope::Scopes>(mut self) -> Self {
        self.scopes = S::NAMES;
        self.scope_variants = S::VARIANTS;
        self
    }

    /// How many requests one API key may make a minute (default 600; 0: no limit).
    /// Counted in each instance's memory: behind a balancer of `n` instances a key
    /// may make up to `n` times as many. Beyond it: 429 with `Retry-After`.
    pub fn api_key_rate_limit(mut self, per_minute: u32) -> Self {
        self.key_rate_limit = crate::strategy::KeyRateLimit { per_minute };
        self
    }

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

    /// Keeps the security events that name a user in the store (table
    /// `warden_security_event`) for `trail`'s retention, beside the application's own
    /// [`security_events`](Self::security_events) sink, which still receives every
    /// event; serves `GET /users/me/security-events` and, to superusers,
    /// `GET /users/{id}/security-events`. The hourly purge deletes older events:
    /// they are personal data.
    ///
    /// ```
    /// use std::time::Duration;
    /// use warden_runtime::audit::AuditTrail;
    /// use warden_runtime::{JwtStrategy, Lifetime, MemoryStore, User, Warden};
    /// let jwt = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(60)).build()?;
    /// let warden = Warden::<User>::builder()
    ///     .store(MemoryStore::new())
    ///     .strategy("jwt", jwt)
    ///     .audit_trail(AuditTrail::keep_for(Duration::from_secs(90 * 24 * 3600)))
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn audit_trail(mut self, trail: crate::audit::AuditTrail) -> Self {
        self.audit_trail = Some(trail);
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

    /// At most `sessions` live sessions per user (default
    /// [`DEFAULT_MAX_SESSIONS`](crate::session::DEFAULT_MAX_SESSIONS), 100); a login
    /// past it ends that user's oldest sessions, and their tokens with them.
    /// Refreshes continue their login's session and never count twice. At least 1.
    ///
    /// ```
    /// use warden_runtime::{JwtStrategy, Lifetime, MemoryStore, User, Warden};
    /// let jwt = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(60)).build()?;
    /// let warden = Warden::<User>::builder()
    ///     .store(MemoryStore::new())
    ///     .strategy("jwt", jwt)
    ///     .max_sessions_per_user(5)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_sessions_per_user(mut self, sessions: usize) -> Self {
        self.max_sessions = sessions;
        self
    }

    /// Login throttling's limits (on by default with [`ThrottleSettings::default`]:
    /// 100 failed logins per account and 300 per client address an hour, 30
    /// forgot-password or verify requests and 30 registrations per address). Past a limit the route
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

    /// The secret that device cookies' MAC key derives from (HKDF-SHA256, label
    /// `warden/device-cookie`; at least 32 bytes), the same on every instance, like
    /// [`TokenSettings`]' secret. A browser that signed in with its password gets a
    /// device cookie, and a login presenting it is not refused by others' failures
    /// ([`ThrottleSettings::per_device`]). Without one, each process makes a random
    /// secret: device cookies then work on the instance that set them and end with
    /// it (a login elsewhere is throttled as without one).
    pub fn device_cookie_secret(mut self, secret: impl Into<crate::token::Secret>) -> Self {
        match self.device_secrets.first_mut() {
            Some(current) => *current = secret.into(),
            None => self.device_secrets.push(secret.into()),
        }
        self
    }

    /// Rotates the device cookie secret: cookies made with `secret` (the previous
    /// [`device_cookie_secret`](Self::device_cookie_secret)) still verify until it is
    /// removed. Call after `device_cookie_secret`, newest first.
    pub fn previous_device_cookie_secret(
        mut self,
        secret: impl Into<crate::token::Secret>,
    ) -> Self {
        self.device_secrets.push(secret.into());
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
    /// `PATCH /users/{id}` never needs it. With it on, linking a provider account
    /// (`GET /auth/associate/{name}/authorize`) needs a sign-in of the last five
    /// minutes (`POST /auth/{backend}/reauthenticate`), else 401
    /// `REAUTHENTICATION_REQUIRED`: a linked account outlives a password reset.
    pub fn require_current_password(mut self, required: bool) -> Self {
        self.current_password = required;
        self
    }

    /// Whether a password reset and "log out everywhere" (`DELETE
    /// /users/me/sessions`) also unlink the user's provider accounts, each with an
    /// `account_unlinked` security event: a provider account linked through a
    /// briefly stolen session would otherwise outlive the owner's recovery. A user
    /// without a password keeps them (they are the only way in). Off by default:
    /// the owner links their accounts again through the associate router.
    ///
    /// ```
    /// use warden_runtime::{JwtStrategy, Lifetime, MemoryStore, User, Warden};
    /// let jwt = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(60)).build()?;
    /// let warden = Warden::<User>::builder()
    ///     .store(MemoryStore::new())
    ///     .strategy("jwt", jwt)
    ///     .unlink_providers_on_recovery(true)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unlink_providers_on_recovery(mut self, unlink: bool) -> Self {
        self.unlink_on_recovery = unlink;
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
            StrategyConfig::ApiKey => Pending::ApiKey,
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
        if B::CONFIG.strategy == StrategyConfig::ApiKey {
            return Err(ConfigError::Mismatch(format!(
                "oauth::<_, {}>: an API key backend signs no one in; log in through a backend of tokens (jwt, database, redis)",
                B::CONFIG.name
            )));
        }
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
        let pending = PendingOAuth::read::<C>(backend, options, &self.oauth)?;
        self.oauth.push(pending);
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

    /// Turns on a second factor: TOTP codes from an authenticator app, with
    /// recovery codes (`POST /users/me/2fa/totp` and the routes beside it; a user
    /// who turned it on answers a code after the password, at
    /// `POST /auth/{name}/login/2fa`). Every way in obeys it: password logins on
    /// every backend, provider logins (unless the provider did MFA) and
    /// re-authentication; a refresh continues a session that passed it.
    ///
    /// ```
    /// use warden_runtime::second_factor::{TwoFactor, TwoFactorPolicy};
    /// use warden_runtime::{JwtStrategy, Lifetime, MemoryStore, User, Warden};
    /// let jwt = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(900)).build()?;
    /// let warden = Warden::<User>::builder()
    ///     .store(MemoryStore::new())
    ///     .strategy("jwt", jwt)
    ///     .two_factor(
    ///         TwoFactor::totp("MyApp")
    ///             .secret("another-secret-of-at-least-32-bytes!")
    ///             .policy(TwoFactorPolicy::Superusers),
    ///     )
    ///     .build()?;
    /// # let _ = warden;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn two_factor(mut self, two_factor: crate::second_factor::TwoFactor) -> Self {
        self.two_factor = Some(two_factor);
        self
    }

    /// Serves passkeys (WebAuthn): `/users/me/passkeys` to manage them,
    /// `/auth/{backend}/passkey` to sign in with one, `/auth/passkeys/client.js`
    /// for the browser (and with [`Passkeys::signup`](crate::passkeys::Passkeys::signup)
    /// `/auth/register/passkey`). [`build`](Self::build) checks the RP ID and
    /// origins. Cargo feature `passkeys`.
    ///
    /// ```
    /// use warden_runtime::passkeys::Passkeys;
    /// use warden_runtime::{JwtStrategy, Lifetime, MemoryStore, User, Warden};
    /// let jwt = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(60)).build()?;
    /// let warden = Warden::<User>::builder()
    ///     .store(MemoryStore::new())
    ///     .strategy("jwt", jwt)
    ///     .passkeys(
    ///         Passkeys::new("example.com", ["https://example.com"], "Example")
    ///             .secret("a-secret-of-at-least-thirty-two-bytes!"),
    ///     )
    ///     .build()?;
    /// assert!(warden.route_table().iter().any(|(_, path, _)| path == "/auth/jwt/passkey"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "passkeys")]
    pub fn passkeys(mut self, passkeys: crate::passkeys::Passkeys) -> Self {
        self.passkeys = Some(passkeys);
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
        let throttle = match self.throttle {
            Some(settings) => {
                let counters = store.counters().unwrap_or_else(|| {
                    if store.shared() {
                        tracing::warn!(
                            "the user store is shared but keeps no throttling counters: each instance counts failed logins alone"
                        );
                    }
                    Arc::new(MemoryCounters::default())
                });
                let devices = device_cookies(&self.device_secrets, &settings, store.shared())?;
                Some(Throttle::new(counters, settings, devices))
            }
            None => None,
        };
        if self.max_sessions == 0 {
            return Err(ConfigError::Mismatch(
                "max_sessions_per_user(0) would refuse every login: give 1 or more".into(),
            ));
        }
        // The `accesstoken` rows of every database backend share one table: they
        // are purged once the longest of their lifetimes has passed, never under
        // `lifetime = forever`.
        let mut retention: Option<Option<u64>> = None;
        let audit_trail = match self.audit_trail {
            Some(trail) => Some((
                store.audit().ok_or_else(|| {
                    ConfigError::Mismatch(
                        "audit_trail: this user store keeps no security events: use MemoryStore, SqliteStore, PostgresStore or DatabaseStore, or implement UserStore::audit".into(),
                    )
                })?,
                trail,
            )),
            None => None,
        };
        // The application's sink and the trail's, each on its own queue: a stuck
        // sink of the application's does not stop the trail, nor the other way.
        let mut audit = match self.security_events {
            Some(sink) => crate::audit::Audit::new(sink, self.clock.clone()),
            None => crate::audit::Audit::default(),
        };
        if let Some((kept, _)) = &audit_trail {
            audit = audit.and(crate::audit::Audit::new(
                Arc::new(crate::store::audit::StoreSink(Arc::clone(kept))),
                self.clock.clone(),
            ));
        }
        let mut backends = Vec::with_capacity(self.backends.len());
        let mut api_keys = None;
        for slot in self.backends {
            let strategy: Arc<dyn Strategy> = match slot.strategy {
                Pending::Ready(strategy) => strategy,
                Pending::Database(lifetime) => {
                    let tokens = store.access_tokens().ok_or_else(|| ConfigError::BadOption {
                        backend: slot.name.clone(),
                        option: "strategy",
                        problem: "\"database\" keeps tokens in the user store's database, and this store has none: use SqliteStore, PostgresStore or DatabaseStore".into(),
                    })?;
                    let seconds = match lifetime {
                        crate::token::Lifetime::Seconds(seconds) => Some(seconds),
                        crate::token::Lifetime::Forever => None,
                    };
                    retention = Some(match retention {
                        None => seconds,
                        Some(longest) => longest.zip(seconds).map(|(a, b)| a.max(b)),
                    });
                    Arc::new(DatabaseStrategy::new(tokens, lifetime).with_clock(self.clock.clone()))
                }
                Pending::ApiKey => {
                    let keys = store.api_keys().ok_or_else(|| ConfigError::BadOption {
                        backend: slot.name.clone(),
                        option: "strategy",
                        problem: "\"api_key\" keeps keys in the user store's database, and this store has none: use MemoryStore, SqliteStore, PostgresStore or DatabaseStore, or implement UserStore::api_keys".into(),
                    })?;
                    api_keys = Some(crate::warden::ApiKeys {
                        store: Arc::clone(&keys),
                        scopes: self.scopes,
                        scope_variants: self.scope_variants,
                    });
                    Arc::new(
                        crate::strategy::ApiKeyStrategy::new(keys, self.key_rate_limit)
                            .with_clock(self.clock.clone())
                            .audited(audit.clone()),
                    )
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
        let names: Vec<&str> = backends.iter().map(|entry| entry.name.as_str()).collect();
        #[cfg(feature = "oauth")]
        for pending in self.oauth {
            let route = pending.assemble(&names, store.as_ref(), &oauth)?;
            oauth.push(route);
        }
        // Spent OAuth states are rows of the counters too: purged on the throttle's
        // window (so no live count is dropped), or hourly without a throttle.
        #[cfg(feature = "oauth")]
        for route in &oauth {
            let window = self
                .throttle
                .map_or(std::time::Duration::from_secs(3600), |settings| {
                    settings.window
                });
            crate::throttle::purge_on_timer(&route.spent, window);
        }
        let second_factor = match self.two_factor {
            Some(config) => {
                let kept = store.two_factor().ok_or_else(|| {
                    ConfigError::Mismatch(
                        "two_factor: this user store keeps no second factors: use MemoryStore, SqliteStore, PostgresStore or DatabaseStore, or implement UserStore::two_factor".into(),
                    )
                })?;
                Some(Arc::new(crate::second_factor::SecondFactor::new(
                    config,
                    kept,
                    self.clock.clone(),
                )?))
            }
            None => None,
        };
        #[cfg(feature = "passkeys")]
        let passkeys = match &self.passkeys {
            Some(config) => Some(crate::passkeys::Enabled {
                service: config.service()?,
                store: store.passkeys().ok_or(ConfigError::Incomplete(
                    "passkeys: the user store keeps none: use MemoryStore, SqliteStore, PostgresStore or DatabaseStore, or implement UserStore::passkeys",
                ))?,
            }),
            None => None,
        };
        let events = self.events.unwrap_or_else(|| Arc::new(DefaultEvents));
        let tokens = ActionTokens::new(self.reset, self.verify)?.with_clock(self.clock.clone());
        let access_tokens = match retention {
            Some(Some(seconds)) => store.access_tokens().map(|tokens| (tokens, seconds)),
            _ => None,
        };
        let store: Arc<dyn UserStore<U>> = Arc::new(CachedStore::new(store, self.cache));
        let warden = Warden::assemble(Inner {
            authn: Authenticator {
                backends,
                manager: UserManager::with_tokens(store, hasher, events, tokens)
                    .audited(audit)
                    .capped(self.max_sessions)
                    .clocked(self.clock),
                allowed_origins: self.allowed_origins,
                second_factor,
            },
            access_tokens,
            audit_trail,
            requires_verification: self.requires_verification,
            docs: !self.no_docs,
            app_api: self.app_api,
            routers: self.routers,
            current_password: self.current_password,
            unlink_on_recovery: self.unlink_on_recovery,
            throttle,
            proxies: self.proxies,
            #[cfg(feature = "oauth")]
            oauth,
            #[cfg(feature = "oauth")]
            oauth_extra: self.oauth_extra,
            #[cfg(feature = "passkeys")]
            passkeys,
            api_keys,
        });
        crate::routes::check_paths(&warden)?;
        warden.purge_hourly();
        Ok(warden)
    }
}
