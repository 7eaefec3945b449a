//! "Log in with ...": FastAPI Users' OAuth login router for OpenID Connect providers
//! (discovery), declared with `#[oauth_client]`, with what FastAPI Users
//! lacks: PKCE (S256), a nonce, the identity read from the ID token verified against
//! the provider's keys, e-mails linked or trusted only when the provider says they are
//! verified, single-use state, one provider account per user, and a 4xx (never a 500)
//! for every provider failure.

//!
//! The declarations ([`OAuthClient`], [`OAuthClientConfig`], [`OAuthProvider`]) are
//! always here, so `#[oauth_client]` expands to one clear error when the cargo
//! feature `oauth` is off; the client that talks to providers (reqwest with rustls,
//! AES-GCM for their tokens) and the routers need the feature.

#[cfg(feature = "oauth")]
mod assemble;
#[cfg(feature = "oauth")]
mod provider;
#[cfg(feature = "oauth")]
mod sealed;
#[cfg(feature = "oauth")]
pub(crate) mod state;

#[cfg(feature = "oauth")]
use std::sync::Arc;

#[cfg(feature = "oauth")]
pub(crate) use assemble::PendingOAuth;
#[cfg(feature = "oauth")]
pub(crate) use provider::{Endpoints, ProviderClient};
#[cfg(feature = "oauth")]
pub use provider::{Identity, OAuthError, ProviderTokens};
#[cfg(feature = "oauth")]
pub(crate) use sealed::Sealer;
#[cfg(feature = "oauth")]
pub(crate) use state::StateCodec;

use crate::backend::KeySource;
#[cfg(feature = "oauth")]
use crate::keyring::Keyring;
#[cfg(feature = "oauth")]
use crate::token::Secret;

/// Which kind of provider a client talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthProvider {
    /// Any OpenID Connect provider, found by discovery at its issuer
    /// (`{issuer}/.well-known/openid-configuration`): Google, Microsoft, Okta,
    /// Keycloak, Auth0 are configurations of it.
    OpenIdConnect {
        /// The issuer URL.
        issuer: KeySource,
    },
    /// GitHub's OAuth2 (no OpenID Connect): the account from `GET /user`, the
    /// e-mail and whether it is verified from `GET /user/emails`.
    GitHub {
        /// Where `/login/oauth/authorize` and `/login/oauth/access_token` are:
        /// `https://github.com`, or a GitHub Enterprise Server.
        web: KeySource,
        /// The REST API: `https://api.github.com`, or `https://HOST/api/v3`.
        api: KeySource,
    },
}

/// A client as declared by `#[oauth_client(...)]` (or by hand).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OAuthClientConfig {
    /// The route segment (`/auth/{name}/authorize`) and the stored `oauth_name`.
    pub name: &'static str,
    /// The provider.
    pub provider: OAuthProvider,
    /// The client id the provider gave.
    pub client_id: KeySource,
    /// The client secret the provider gave.
    pub client_secret: KeySource,
    /// The scopes asked for.
    pub scopes: &'static [&'static str],
}

/// A declared OAuth client. Implement it with `#[warden::oauth_client(...)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a warden OAuth client",
    label = "not declared with #[oauth_client]",
    note = "declare it with `#[warden::oauth_client(name = \"oidc\", issuer = env(\"OIDC_ISSUER\"), client_id = env(\"OIDC_CLIENT_ID\"), client_secret = env(\"OIDC_CLIENT_SECRET\"))] pub struct {Self};`"
)]
pub trait OAuthClient: Send + Sync + 'static {
    /// The declared configuration.
    const CONFIG: OAuthClientConfig;
}

#[cfg(feature = "oauth")]
/// How one OAuth login router behaves (FastAPI Users' `get_oauth_router` options).
///
/// ```
/// use warden_runtime::oauth::OAuthOptions;
/// let options = OAuthOptions::new("https://app.example.com", "a-state-secret-of-at-least-32-bytes!!")
///     .associate_by_email(true);
/// assert_eq!(options.callback_url("oidc"), "https://app.example.com/auth/oidc/callback");
/// // A single-page app: the provider sends the browser to the app's page, which
/// // calls the callback route with the query it got.
/// let spa = options.redirect_url("https://app.example.com/login/done");
/// assert_eq!(spa.callback_url("oidc"), "https://app.example.com/login/done");
/// ```
#[derive(Debug, Clone)]
pub struct OAuthOptions {
    pub(crate) public_url: String,
    pub(crate) state_secret: Secret,
    /// State secrets rotated out, newest first.
    pub(crate) previous_state_secrets: Vec<Secret>,
    pub(crate) route: Option<String>,
    pub(crate) redirect_url: Option<String>,
    pub(crate) associate_by_email: bool,
    pub(crate) is_verified_by_default: bool,
    pub(crate) token_key: Option<Secret>,
    /// Token keys rotated out, newest first.
    pub(crate) previous_token_keys: Vec<Secret>,
}

#[cfg(feature = "oauth")]
impl OAuthOptions {
    /// The application's public URL (`https://app.example.com`, as the provider
    /// sees it: the callback URL is built from it, never from a request's `Host`)
    /// and the state secret (at least 32 bytes). The state is signed (HS256), and its
    /// PKCE verifier and nonce derived, with keys derived from that secret
    /// (HKDF-SHA256, RFC 5869, one label per use), never with the secret itself.
    pub fn new(public_url: impl Into<String>, state_secret: impl Into<Secret>) -> Self {
        Self {
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            state_secret: state_secret.into(),
            previous_state_secrets: Vec::new(),
            route: None,
            redirect_url: None,
            associate_by_email: false,
            is_verified_by_default: false,
            token_key: None,
            previous_token_keys: Vec::new(),
        }
    }

    /// Serves the router at `/auth/{route}` instead of `/auth/{client name}`, for a
    /// second router of one client with other options.
    pub fn route(mut self, route: impl Into<String>) -> Self {
        self.route = Some(route.into());
        self
    }

    /// The provider sends the browser to this URL (a single-page app's page) instead
    /// of the callback route; the page then calls the callback route with the query.
    pub fn redirect_url(mut self, url: impl Into<String>) -> Self {
        self.redirect_url = Some(url.into());
        self
    }

    /// A provider account whose e-mail is a local account's is linked to it, only if
    /// the provider says the e-mail is verified and the local account is verified
    /// (FastAPI Users links it either way); otherwise the callback answers 400
    /// `OAUTH_USER_ALREADY_EXISTS`, and the user signs in with their password and
    /// links the provider through the associate router.
    pub fn associate_by_email(mut self, on: bool) -> Self {
        self.associate_by_email = on;
        self
    }

    /// Users created through the provider are verified, only if the provider says
    /// their e-mail is (FastAPI Users verifies them either way).
    pub fn is_verified_by_default(mut self, on: bool) -> Self {
        self.is_verified_by_default = on;
        self
    }

    /// Rotates the state secret: states signed under `secret` (the one
    /// [`new`](Self::new) was given before) still read, while new ones are signed
    /// under the new secret. States live ten minutes: remove it after that. Call
    /// again for each older secret still accepted, newest first.
    ///
    /// ```
    /// use warden_runtime::oauth::OAuthOptions;
    /// let options = OAuthOptions::new("https://app.example.com", "the-new-state-secret-of-32-bytes!!")
    ///     .previous_state_secret("the-old-state-secret-of-32-bytes!!");
    /// # let _ = options;
    /// ```
    pub fn previous_state_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.previous_state_secrets.push(secret.into());
        self
    }

    /// Keeps the provider's access and refresh tokens in `oauth_account`, sealed with
    /// AES-256-GCM under a key derived from `key` (at least 32 bytes; HKDF-SHA256,
    /// RFC 5869), for the application's calls to the provider
    /// ([`Warden::provider_tokens`](crate::Warden::provider_tokens)).
    /// Without it no provider token is stored (FastAPI Users stores them in clear).
    ///
    /// ```
    /// use warden_runtime::oauth::OAuthOptions;
    /// let options = OAuthOptions::new("https://app.example.com", "a-state-secret-of-at-least-32-bytes!!")
    ///     .store_provider_tokens("a-token-key-of-at-least-32-bytes!!");
    /// # let _ = options;
    /// ```
    pub fn store_provider_tokens(mut self, key: impl Into<Secret>) -> Self {
        self.token_key = Some(key.into());
        self
    }

    /// Rotates the provider token key: tokens sealed under `key` (the one
    /// [`store_provider_tokens`](Self::store_provider_tokens) was given before)
    /// still open, while new ones are sealed under the new key. Tokens stay sealed
    /// under the old key until the provider's are next stored (a login through it):
    /// keep it while such rows remain. Call again for each older key, newest first.
    ///
    /// ```
    /// use warden_runtime::oauth::OAuthOptions;
    /// let options = OAuthOptions::new("https://app.example.com", "a-state-secret-of-at-least-32-bytes!!")
    ///     .store_provider_tokens("the-new-token-key-of-32-bytes-or-more")
    ///     .previous_provider_token_key("the-old-token-key-of-32-bytes-or-more");
    /// # let _ = options;
    /// ```
    pub fn previous_provider_token_key(mut self, key: impl Into<Secret>) -> Self {
        self.previous_token_keys.push(key.into());
        self
    }

    /// The state codec, under these options' state secrets, of the router
    /// `router` (its path under `/auth/`) of the client `client`; why not, when a
    /// secret is shorter than 32 bytes.
    pub(crate) fn state_codec(&self, client: &str, router: &str) -> Result<StateCodec, String> {
        let ring = ring(&self.state_secret, &self.previous_state_secrets)
            .ok_or("a state secret (or a previous one) has fewer than 32 bytes")?;
        StateCodec::new(&ring, client, router)
            .ok_or_else(|| "the state secret is not a usable key".to_owned())
    }

    /// The sealer of these options' token keys, when provider tokens are stored;
    /// why not, when a key is shorter than 32 bytes.
    pub(crate) fn sealer(&self) -> Result<Option<Sealer>, String> {
        let Some(key) = &self.token_key else {
            return Ok(None);
        };
        let ring = ring(key, &self.previous_token_keys)
            .ok_or("store_provider_tokens needs a key of at least 32 bytes (a previous key too)")?;
        let raw: Vec<&Secret> = std::iter::once(key)
            .chain(&self.previous_token_keys)
            .collect();
        Sealer::new(&ring, &raw)
            .map(Some)
            .ok_or_else(|| "the provider token key is not a usable key".to_owned())
    }

    /// Whether the CSRF cookie is `Secure`: when the application is served over
    /// HTTPS (a plain-http `public_url` is development on localhost).
    pub(crate) fn secure_cookie(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The CSRF cookie's name: `__Host-`-prefixed when it is `Secure` (a stated
    /// divergence from FastAPI Users, whose cookie a sibling subdomain can plant),
    /// FastAPI Users' name over plain HTTP, where browsers refuse the prefix.
    pub(crate) fn csrf_cookie_name(&self) -> &'static str {
        if self.secure_cookie() {
            state::SECURE_CSRF_COOKIE
        } else {
            state::CSRF_COOKIE
        }
    }

    /// The callback URL of the router at `/auth/{route}` (a login router) or
    /// `/auth/associate/{route}`, as the provider is told.
    pub fn callback_url(&self, route: &str) -> String {
        self.redirect_url
            .clone()
            .unwrap_or_else(|| format!("{}/auth/{route}/callback", self.public_url))
    }
}

/// The keyring of `current` and the `previous` secrets; `None` when one is short.
#[cfg(feature = "oauth")]
fn ring(current: &Secret, previous: &[Secret]) -> Option<Keyring> {
    previous
        .iter()
        .try_fold(Keyring::new(current)?, |ring, old| ring.previous(old))
}

/// One login router as the warden serves it.
#[cfg(feature = "oauth")]
pub(crate) struct OAuthRoute {
    /// The route segment.
    pub(crate) route: String,
    /// The backend whose login response the callback answers with; `None` for an
    /// associate router (`/auth/associate/{route}`).
    pub(crate) backend: Option<String>,
    pub(crate) client: Arc<ProviderClient>,
    pub(crate) state: StateCodec,
    pub(crate) options: OAuthOptions,
    /// Spent states, counted where every instance sees them.
    pub(crate) spent: Arc<dyn crate::throttle::Counters>,
    /// Seals the provider's tokens, when the application keeps them.
    pub(crate) sealer: Option<Sealer>,
}

#[cfg(feature = "oauth")]
impl OAuthRoute {
    /// The provider's tokens as stored: sealed, or nothing (`""`, as FastAPI Users'
    /// non-null column needs) when the application does not keep them.
    pub(crate) fn stored_tokens(
        &self,
        identity: &Identity,
    ) -> Result<(String, Option<String>, Option<i64>), String> {
        let Some(sealer) = &self.sealer else {
            return Ok((String::new(), None, None));
        };
        let context = format!("{}:{}", self.client.name, identity.account_id);
        let tokens = &identity.tokens;
        let refresh = match &tokens.refresh_token {
            Some(refresh) => Some(sealer.seal(refresh, &context)?),
            None => None,
        };
        Ok((
            sealer.seal(&tokens.access_token, &context)?,
            refresh,
            tokens.expires_at,
        ))
    }

    /// The callback URL the provider is told.
    pub(crate) fn callback_url(&self) -> String {
        match self.backend {
            Some(_) => self.options.callback_url(&self.route),
            None => self
                .options
                .callback_url(&format!("associate/{}", self.route)),
        }
    }
}
