//! [`Warden`]: the application state that holds the backends and the manager, and
//! serves the routes.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::http::HeaderMap;
use uuid::Uuid;

use crate::backend::{AuthBackend, KeySource, Transport};
use crate::dev::{DevSecretOrigin, load_or_create_secret};
use crate::error::ApiError;
use crate::error::ConfigError;
use crate::manager::{ActionTokens, DefaultEvents, TokenSettings, UserEvents, UserManager};
use crate::password::PasswordHasher;
use crate::store::{StoreError, UserStore};
use crate::token::JwtStrategy;
use crate::transport::{bearer_token, cookie_token};
use crate::user::User;

/// The authentication state of an application. Cheap to clone; give it to axum with
/// `.with_state(warden)`, or put it in your own state and implement
/// `FromRef<YourState> for Warden`.
#[derive(Clone)]
pub struct Warden {
    inner: Arc<Inner>,
}

struct Inner {
    manager: UserManager,
    backends: Vec<BackendEntry>,
    requires_verification: bool,
    docs: bool,
}

/// What a route demands of its user, checked at run time (the static form is
/// [`Policy`](crate::Policy)).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Requirements {
    pub(crate) active: bool,
    pub(crate) verified: bool,
    pub(crate) superuser: bool,
}

pub(crate) struct BackendEntry {
    pub(crate) name: String,
    pub(crate) strategy: JwtStrategy,
    pub(crate) transport: Transport,
}

impl std::fmt::Debug for Warden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Warden")
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

impl Warden {
    /// Starts configuring.
    pub fn builder() -> WardenBuilder {
        WardenBuilder::default()
    }

    /// The user manager.
    pub fn manager(&self) -> &UserManager {
        &self.inner.manager
    }

    /// The strategy of the backend named `name`.
    pub fn strategy(&self, name: &str) -> Option<&JwtStrategy> {
        self.backend(name).map(|b| &b.strategy)
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
    ) -> Result<Option<User>, StoreError> {
        for backend in self
            .inner
            .backends
            .iter()
            .filter(|b| only.is_none_or(|name| b.name == name))
        {
            let token = match &backend.transport {
                Transport::Bearer => bearer_token(headers),
                Transport::Cookie(cookie) => cookie_token(headers, cookie.name),
            };
            let Some(token) = token else { continue };
            let claims = match backend.strategy.verify(token) {
                Ok(claims) => claims,
                Err(error) => {
                    tracing::debug!(backend = %backend.name, %error, "token refused");
                    continue;
                }
            };
            let Ok(id) = Uuid::parse_str(&claims.sub) else {
                tracing::debug!(backend = %backend.name, "token sub is not a user id");
                continue;
            };
            if let Some(user) = self.inner.manager.get(id).await? {
                return Ok(Some(user));
            }
        }
        Ok(None)
    }

    /// Whether login and the users routes require a verified user (FastAPI Users'
    /// `requires_verification`).
    pub fn requires_verification(&self) -> bool {
        self.inner.requires_verification
    }

    /// The user of a request, checked against `needs` (plus verification when the
    /// application requires it): 401 or 403 as FastAPI Users answers.
    pub(crate) async fn authorize(
        &self,
        headers: &HeaderMap,
        only: Option<&str>,
        needs: Requirements,
    ) -> Result<User, ApiError> {
        let user = self.current_user(headers, only).await?;
        crate::guard::admit_with(
            user,
            needs.active,
            needs.verified || self.inner.requires_verification,
            needs.superuser,
        )
    }

    /// FastAPI Users' routes for every backend: `POST /auth/register`,
    /// `POST /auth/{name}/login | logout | refresh`, `GET /users/me`. Merge them into
    /// your router.
    pub fn routes<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let routes = crate::routes::router(self.clone());
        if self.inner.docs {
            routes.merge(crate::openapi::router(&self.api_spec("warden")))
        } else {
            routes
        }
    }

    /// Whether [`routes`](Self::routes) serves `/openapi.json` and `/docs`.
    pub fn serves_docs(&self) -> bool {
        self.inner.docs
    }

    /// The description of the routes this warden serves, for
    /// [`openapi::document`](crate::openapi::document).
    pub fn api_spec(&self, title: impl Into<String>) -> crate::openapi::ApiSpec {
        use crate::openapi::{ApiSpec, BackendSpec};
        ApiSpec {
            title: title.into(),
            backends: self
                .inner
                .backends
                .iter()
                .map(|b| match &b.transport {
                    Transport::Bearer => BackendSpec::bearer(&b.name),
                    Transport::Cookie(cookie) => BackendSpec::cookie(&b.name, cookie.name),
                })
                .collect(),
            register: true,
            users: true,
            reset_password: self.inner.manager.tokens().has_reset(),
            verify: self.inner.manager.tokens().has_verify(),
        }
    }

    /// Every route [`routes`](Self::routes) serves: `(method, path, what it does)`.
    pub fn route_table(&self) -> Vec<(&'static str, String, &'static str)> {
        crate::routes::table(self)
    }
}

/// Configures a [`Warden`]. `store` and at least one backend are required.
#[derive(Default)]
pub struct WardenBuilder {
    store: Option<Arc<dyn UserStore>>,
    backends: Vec<BackendEntry>,
    events: Option<Arc<dyn UserEvents>>,
    hasher: Option<PasswordHasher>,
    dev_secret_file: Option<PathBuf>,
    reset: Option<TokenSettings>,
    verify: Option<TokenSettings>,
    requires_verification: bool,
    no_docs: bool,
}

impl WardenBuilder {
    /// Where users live.
    pub fn store(mut self, store: impl UserStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Where users live, shared with the application.
    pub fn shared_store(mut self, store: Arc<dyn UserStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Lifecycle hooks and the password rule (default: [`DefaultEvents`]).
    pub fn events(mut self, events: impl UserEvents) -> Self {
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

    /// Whether [`Warden::routes`] serves the OpenAPI document at `/openapi.json` and
    /// Swagger UI at `/docs` (default: yes, as FastAPI does).
    pub fn docs(mut self, serve: bool) -> Self {
        self.no_docs = !serve;
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
        let strategy = match (config.secret, &self.dev_secret_file) {
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
        };
        self.backends.push(BackendEntry {
            name: config.name.to_owned(),
            strategy,
            transport: config.transport,
        });
        Ok(self)
    }

    /// Adds a backend built by hand.
    pub fn strategy(mut self, name: impl Into<String>, strategy: JwtStrategy) -> Self {
        self.backends.push(BackendEntry {
            name: name.into(),
            strategy,
            transport: Transport::Bearer,
        });
        self
    }

    /// Checks the whole configuration and builds.
    pub fn build(self) -> Result<Warden, ConfigError> {
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
        let events = self.events.unwrap_or_else(|| Arc::new(DefaultEvents));
        let tokens = ActionTokens::new(self.reset, self.verify)?;
        Ok(Warden {
            inner: Arc::new(Inner {
                manager: UserManager::with_tokens(store, hasher, events, tokens),
                backends: self.backends,
                requires_verification: self.requires_verification,
                docs: !self.no_docs,
            }),
        })
    }
}
