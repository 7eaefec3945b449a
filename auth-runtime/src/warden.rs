//! [`Warden`]: the application state that holds the backends and the manager, and
//! serves the routes.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::HeaderMap;

use crate::authn::{Authenticator, BackendEntry};
use crate::error::{ApiError, ErrorCode, ErrorTexts};
use crate::manager::UserManager;
use crate::model::UserModel;
#[cfg(feature = "oauth")]
use crate::oauth::OAuthRoute;
use crate::throttle::{Throttle, TrustedProxies};
use crate::token::JwtStrategy;
use crate::user::User;

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

/// What a [`Warden`] holds, as the builder assembles it.
pub(crate) struct Inner<U: UserModel> {
    pub(crate) authn: Authenticator<U>,
    pub(crate) requires_verification: bool,
    pub(crate) docs: bool,
    pub(crate) app_api: Option<utoipa::openapi::OpenApi>,
    pub(crate) routers: Routers,
    pub(crate) current_password: bool,
    /// A password reset and "log out everywhere" unlink the user's provider accounts
    /// (read only with the `oauth` feature, which links them).
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) unlink_on_recovery: bool,
    pub(crate) throttle: Option<Throttle>,
    pub(crate) proxies: TrustedProxies,
    /// The database backends' `accesstoken` table and how long its rows live (the
    /// longest lifetime of those backends); `None` without one, or under
    /// `lifetime = forever`.
    pub(crate) access_tokens: Option<(Arc<dyn crate::store::AccessTokenStore>, u64)>,
    /// Where the audit trail keeps events and for how long; `None` when it is off.
    pub(crate) audit_trail: Option<(Arc<dyn crate::store::AuditStore>, crate::audit::AuditTrail)>,
    #[cfg(feature = "oauth")]
    pub(crate) oauth: Vec<OAuthRoute>,
    #[cfg(feature = "oauth")]
    pub(crate) oauth_extra: Option<fn() -> U::Create>,
    #[cfg(feature = "passkeys")]
    pub(crate) passkeys: Option<crate::passkeys::Enabled>,
    /// API keys, when a backend of strategy `api_key` is declared.
    pub(crate) api_keys: Option<ApiKeys>,
}

/// What the API key routes need: where keys are kept, and the application's
/// scopes (`WardenBuilder::scopes`), which a new key's must be among.
pub(crate) struct ApiKeys {
    pub(crate) store: Arc<dyn crate::store::ApiKeyStore>,
    pub(crate) scopes: &'static [&'static str],
    /// The scopes' variant identifiers, in the same order, for the OpenAPI document.
    pub(crate) scope_variants: &'static [&'static str],
}

/// Which of FastAPI Users' routers are served, where, and what their errors say:
/// the builder's settings the inventory reads.
#[derive(Clone)]
pub(crate) struct Routers {
    /// `register_router`.
    pub(crate) register: bool,
    /// `users_router`.
    pub(crate) users: bool,
    /// `route_path`: FastAPI Users' route name to path, as the application wrote
    /// them; `build()` checks that each names a served [`Operation`](crate::openapi::Operation).
    pub(crate) paths: BTreeMap<String, String>,
    /// `error_text`.
    pub(crate) error_texts: ErrorTexts,
}

impl Default for Routers {
    fn default() -> Self {
        Self {
            register: true,
            users: true,
            paths: BTreeMap::new(),
            error_texts: ErrorTexts::default(),
        }
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
                    .authn
                    .backends
                    .iter()
                    .map(|b| &b.name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl<U: UserModel> Warden<U> {
    /// The warden the builder assembled.
    pub(crate) fn assemble(inner: Inner<U>) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Forgets what can no longer be used: sessions and refresh tokens past their
    /// end, the database backends' `accesstoken` rows (with what warden keeps
    /// beside them) older than the longest of those backends' lifetimes, and
    /// two-factor sign-in challenges past their expiry, and the audit trail's
    /// security events older than its retention. Under
    /// `lifetime = forever` tokens and sessions have no end and are kept until
    /// they are ended and (for an ended session) forever, as only its row refuses
    /// its tokens. The warden runs this every hour by itself.
    pub async fn purge_expired(&self) -> Result<(), crate::store::StoreError> {
        let sessions = self.manager().sessions();
        sessions.purge().await?;
        if let Some((tokens, lifetime)) = &self.inner.access_tokens {
            let lifetime = i64::try_from(*lifetime).unwrap_or(i64::MAX);
            tokens
                .purge(sessions.clock().now().saturating_sub(lifetime))
                .await?;
        }
        if let Some(two_factor) = self.manager().store().two_factor() {
            two_factor.purge_expired(sessions.clock().now()).await?;
        }
        if let Some((kept, trail)) = &self.inner.audit_trail {
            let age = i64::try_from(trail.retention().as_secs()).unwrap_or(i64::MAX);
            kept.purge(sessions.clock().now().saturating_sub(age))
                .await?;
        }
        Ok(())
    }

    /// Runs [`purge_expired`](Self::purge_expired) every hour for as long as the
    /// warden lives, when built inside a Tokio runtime (else a login purges
    /// sessions at most hourly, as before).
    pub(crate) fn purge_hourly(&self) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let inner = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every.tick().await;
            loop {
                every.tick().await;
                let Some(inner) = inner.upgrade() else { return };
                let warden = Self { inner };
                if let Err(error) = warden.purge_expired().await {
                    tracing::warn!(%error, "could not purge expired sessions and tokens");
                }
            }
        });
    }

    /// The audit trail's store, when `WardenBuilder::audit_trail` turned it on.
    pub(crate) fn audit_trail(&self) -> Option<&Arc<dyn crate::store::AuditStore>> {
        self.inner.audit_trail.as_ref().map(|(kept, _)| kept)
    }

    /// The user manager.
    pub fn manager(&self) -> &UserManager<U> {
        &self.inner.authn.manager
    }

    /// The request pipeline every guard and built-in route goes through.
    pub fn authenticator(&self) -> &Authenticator<U> {
        &self.inner.authn
    }

    /// The JWT strategy of the backend named `name`, if that backend uses one.
    pub fn strategy(&self, name: &str) -> Option<&JwtStrategy> {
        self.backend(name)?.strategy.as_jwt()
    }

    /// The backends' names, in the order they are tried.
    pub fn backend_names(&self) -> impl Iterator<Item = &str> {
        self.inner.authn.backends.iter().map(|b| b.name.as_str())
    }

    pub(crate) fn backend(&self, name: &str) -> Option<&BackendEntry> {
        self.inner.authn.backend(name)
    }

    pub(crate) fn backends(&self) -> &[BackendEntry] {
        self.inner.authn.backends()
    }

    /// The user a request authenticates as, trying the backends in order (or only
    /// `only`). A missing, malformed, expired or foreign token, or a `sub` naming no
    /// user, is `Ok(None)`; only a store failure is an error.
    pub async fn current_user(
        &self,
        headers: &HeaderMap,
        only: Option<&str>,
    ) -> Result<Option<U>, crate::error::ApiError> {
        Ok(self
            .inner
            .authn
            .authenticate(headers, only)
            .await?
            .map(|found| found.user))
    }

    /// 400 with `code`'s text: FastAPI Users' code, or the application's
    /// ([`WardenBuilder::error_text`]).
    pub(crate) fn error(&self, code: ErrorCode) -> ApiError {
        self.inner.routers.error_texts.error(code)
    }

    /// `code`'s text: FastAPI Users' code, or the application's.
    pub(crate) fn error_text(&self, code: ErrorCode) -> &str {
        self.inner.routers.error_texts.text(code)
    }

    /// The `acr` of a sign-in that passed a second factor.
    pub(crate) fn acr(&self) -> &str {
        self.authenticator()
            .second_factor()
            .map_or(crate::second_factor::DEFAULT_ACR, |factor| factor.acr())
    }

    /// 400 with `code`'s text and the reason, FastAPI Users' form for refused
    /// passwords.
    pub(crate) fn error_with_reason(&self, code: ErrorCode, reason: impl Into<String>) -> ApiError {
        self.inner
            .routers
            .error_texts
            .error_with_reason(code, reason)
    }

    /// 400 `{"detail": {"code": text, ...fields}}`.
    pub(crate) fn error_with_detail(&self, code: ErrorCode, fields: serde_json::Value) -> ApiError {
        self.inner
            .routers
            .error_texts
            .error_with_detail(code, fields)
    }

    /// The public keys of every backend that signs with a public-key algorithm (RS*,
    /// PS*, ES*, EdDSA), as served at `GET /.well-known/jwks.json`: each with its
    /// `kid` (RFC 7638 thumbprint), `alg` and `use`. HMAC secrets are never in it.
    pub fn jwks(&self) -> jsonwebtoken::jwk::JwkSet {
        jsonwebtoken::jwk::JwkSet {
            keys: self
                .backends()
                .iter()
                .flat_map(|backend| backend.strategy.public_jwks())
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

    /// Passkeys, when configured (their routes are served only then).
    #[cfg(feature = "passkeys")]
    pub(crate) fn passkeys(&self) -> Result<&crate::passkeys::Enabled, ApiError> {
        self.inner.passkeys.as_ref().ok_or_else(ApiError::internal)
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

    /// After a password reset or "log out everywhere", the user's provider accounts
    /// are unlinked ([`WardenBuilder::unlink_providers_on_recovery`]), unless they
    /// are the only way in. Nothing without the `oauth` feature.
    pub(crate) async fn after_recovery(&self, user: &U) -> Result<(), ApiError> {
        #[cfg(feature = "oauth")]
        if self.inner.unlink_on_recovery
            && let Some(accounts) = self.manager().store().oauth_accounts()
        {
            self.manager()
                .oauth_unlink_all(accounts.as_ref(), user)
                .await
                .map_err(|error| {
                    tracing::error!(%error, "unlinking provider accounts after a recovery failed");
                    ApiError::internal()
                })?;
        }
        #[cfg(not(feature = "oauth"))]
        let _ = user;
        Ok(())
    }

    /// The other origins whose pages may send cookie-authenticated requests that
    /// change state ([`WardenBuilder::allowed_origins`]).
    pub fn allowed_origins(&self) -> &[String] {
        self.inner.authn.allowed_origins()
    }

    /// Whether login and the users routes require a verified user (FastAPI Users'
    /// `requires_verification`).
    pub fn requires_verification(&self) -> bool {
        self.inner.requires_verification
    }
}
