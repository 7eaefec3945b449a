//! The strategy seam: how a backend writes, reads and destroys tokens (FastAPI
//! Users' `Strategy` protocol). [`JwtStrategy`] is the stateless implementation;
//! strategies that keep server-side state (a database, Redis) implement the same
//! trait, and `destroy_token` deletes that state.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use moka::sync::Cache;

use crate::token::{JwtStrategy, Lifetime, TokenError};

mod api_key;
mod database;
#[cfg(feature = "redis")]
mod redis;

pub use crate::store::AccessTokenStore;
pub use api_key::{
    API_KEY_ID_LEN, API_KEY_LEN, API_KEY_PREFIX, ApiKeyStrategy, KeyAccess, KeyRateLimit, NewKey,
    generate_key, parse_key,
};
pub use database::DatabaseStrategy;
#[cfg(feature = "redis")]
pub use redis::{KEY_PREFIX, RedisStrategy, SESSION_KEY_PREFIX};

/// A new opaque token: 256 random bits, base64url (43 characters), as FastAPI
/// Users' `secrets.token_urlsafe()`.
fn opaque_token() -> Result<String, StrategyError> {
    crate::random::urlsafe::<32>().map_err(StrategyError::Issue)
}

/// Whether `token` could be an opaque token at all (base64url, at most 128
/// characters): anything else is refused without a lookup.
fn plausible_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 128
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a valid token says: whose it is, and which session it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenInfo {
    /// The user id, as text (the JWT `sub`).
    pub subject: String,
    /// The session the token belongs to (the JWT `sid`; the login an opaque token
    /// was issued in, else its own hash): ending the session ends the token.
    pub session: Option<String>,
    /// Whether the token itself names `session` (a JWT's `sid`, an opaque token
    /// recorded with its login), so that a session of that id that is not found
    /// refuses it: an end must not be undone by the row's loss (a purge, a
    /// restored backup). `false` for a session id warden derived from an opaque
    /// token it holds no login of (FastAPI Users' own), which is then judged by its
    /// user's cut-off.
    pub session_required: bool,
    /// When the token was issued (Unix seconds), if known: a token without a
    /// session is refused if it was issued before its user's tokens were cut off.
    pub issued_at: Option<i64>,
    /// The token carries no issue time of its own (FastAPI Users' JWTs have no
    /// `iat`): `issued_at` is only an estimate (one lifetime of this backend
    /// before `exp`, while FastAPI Users' lifetime may have been longer), so any
    /// cut-off of its user refuses it: a token still valid at the cut-off may
    /// have been issued before it.
    pub undated: bool,
    /// When the user last proved who they are, if the token says (the JWT
    /// `auth_time`): what `fresh = N` guards measure.
    pub auth_time: Option<i64>,
    /// How they proved it, if the token says (the JWT `amr`, RFC 8176). Shared,
    /// so that a token read from the verified-token cache is not copied.
    pub amr: Arc<[String]>,
    /// The token is an API key, which may do only this: it never signs in, so it
    /// has no sign-in time or second factor, and holds only its own scopes.
    pub api_key: Option<Arc<KeyAccess>>,
}

impl TokenInfo {
    /// A token of the user whose id reads `subject`.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            session: None,
            session_required: false,
            issued_at: None,
            undated: false,
            auth_time: None,
            amr: Arc::from([]),
            api_key: None,
        }
    }

    /// An API key, which may do only what `access` says.
    pub fn keyed(mut self, access: KeyAccess) -> Self {
        self.api_key = Some(Arc::new(access));
        self
    }

    /// Belonging to session `id`, which it names itself: refused if no such
    /// session is found.
    pub fn in_session(mut self, id: impl Into<String>) -> Self {
        self.session = Some(id.into());
        self.session_required = true;
        self
    }

    /// Perhaps belonging to session `id`, derived from the token (an opaque
    /// token's hash, the session an earlier warden recorded for it): if there is
    /// none, the token is judged as one without a session.
    pub fn in_derived_session(mut self, id: impl Into<String>) -> Self {
        self.session = Some(id.into());
        self.session_required = false;
        self
    }

    /// Issued at `at` (Unix seconds).
    pub fn issued(mut self, at: Option<i64>) -> Self {
        self.issued_at = at;
        self
    }
}

/// What a login (or a refresh) asks a strategy for: a token of `subject` in
/// session `session`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Grant<'a> {
    /// The user id, as text.
    pub subject: &'a str,
    /// The session id warden opened for this login.
    pub session: &'a str,
    /// The last sign-in (Unix seconds): a refresh keeps it, a re-authentication
    /// moves it.
    pub auth_time: i64,
    /// The session's end: a token should not outlive it.
    pub expires_at: Option<i64>,
    /// How the user proved who they are (RFC 8176 `amr` values).
    pub amr: &'a [String],
    /// The class of the sign-in (RFC 9470's `acr`): set when it passed a second
    /// factor.
    pub acr: Option<&'a str>,
    /// The superuser acting as the subject (an impersonation session), by id: a
    /// JWT carries it as RFC 8693's `act` claim.
    pub actor: Option<&'a str>,
}

impl<'a> Grant<'a> {
    /// A grant of a token of `subject` in `session`, logged in at `auth_time`.
    pub fn new(
        subject: &'a str,
        session: &'a str,
        auth_time: i64,
        expires_at: Option<i64>,
    ) -> Self {
        Self {
            subject,
            session,
            auth_time,
            expires_at,
            amr: &[],
            acr: None,
            actor: None,
        }
    }

    /// Acted by this superuser (an impersonation session).
    #[must_use]
    pub fn actor(mut self, actor: Option<&'a str>) -> Self {
        self.actor = actor;
        self
    }

    /// Proved by these methods (RFC 8176 `amr` values).
    #[must_use]
    pub fn amr(mut self, amr: &'a [String]) -> Self {
        self.amr = amr;
        self
    }

    /// Of this class (RFC 9470's `acr`).
    #[must_use]
    pub fn acr(mut self, acr: Option<&'a str>) -> Self {
        self.acr = acr;
        self
    }
}

/// A token a strategy wrote, and the session it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Issued {
    /// The token.
    pub token: String,
    /// The session whose end ends the token: the grant's for a token that carries
    /// it, a hash of the token for an opaque one; `None` if the strategy cannot tie
    /// its tokens to sessions (no session is then recorded).
    pub session: Option<String>,
}

impl Issued {
    /// A token that belongs to no session.
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            token: token.into(),
            session: None,
        }
    }

    /// A token of session `id`.
    pub fn in_session(mut self, id: impl Into<String>) -> Self {
        self.session = Some(id.into());
        self
    }
}

/// Why a strategy could not do its work. A token that is merely invalid is not an
/// error: [`Strategy::read_token`] answers `Ok(None)` for it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StrategyError {
    /// A token could not be issued.
    #[error("could not issue a token: {0}")]
    Issue(String),
    /// The strategy's storage is out of reach: answered 503.
    #[error("token storage unavailable: {0}")]
    Unavailable(String),
    /// The token (an API key) has spent its requests for now: answered 429 with
    /// `Retry-After`.
    #[error("rate limited; retry after {retry_after} s")]
    RateLimited {
        /// Seconds until it may be used again.
        retry_after: u32,
    },
}

impl From<TokenError> for StrategyError {
    fn from(error: TokenError) -> Self {
        Self::Issue(error.to_string())
    }
}

/// Writes, reads and destroys the tokens of one backend.
///
/// ```
/// use warden_runtime::{Grant, Issued, Strategy, StrategyError, TokenInfo, async_trait};
///
/// /// Tokens are the user id itself: for tests only.
/// struct Plain;
///
/// #[async_trait]
/// impl Strategy for Plain {
///     async fn read_token(&self, token: &str) -> Result<Option<TokenInfo>, StrategyError> {
///         Ok(Some(TokenInfo::new(token)))
///     }
///     async fn write_token(&self, grant: &Grant<'_>) -> Result<Issued, StrategyError> {
///         Ok(Issued::new(grant.subject))
///     }
/// }
/// ```
#[async_trait]
pub trait Strategy: Send + Sync + 'static {
    /// The token's subject and session if the token is valid now; `Ok(None)` for a
    /// malformed, expired, foreign or destroyed one.
    async fn read_token(&self, token: &str) -> Result<Option<TokenInfo>, StrategyError>;

    /// A new token for the grant's user and session.
    async fn write_token(&self, grant: &Grant<'_>) -> Result<Issued, StrategyError>;

    /// Ends `token` (logout). The default does nothing: a stateless token ends when
    /// it expires.
    async fn destroy_token(&self, token: &str, subject: &str) -> Result<(), StrategyError> {
        let _ = (token, subject);
        Ok(())
    }

    /// Ties `token`, which named no session of warden's (FastAPI Users' own), to
    /// `session`: a refresh of it went on in that session, whose end must end it
    /// too, or logging out the refreshed token would leave it working. The
    /// default does nothing: a stateless token cannot be tied after the fact.
    async fn bind_token(&self, token: &str, session: &str) -> Result<(), StrategyError> {
        let _ = (token, session);
        Ok(())
    }

    /// Seconds a new token lives, for `expires_in` (RFC 6749 §5.1); `None`: unknown
    /// or unbounded.
    fn lifetime(&self) -> Option<u64> {
        None
    }

    /// The public keys that verify this strategy's tokens, as `GET
    /// /.well-known/jwks.json` serves them (RFC 7517): none for opaque tokens or an
    /// HMAC secret, which is never published.
    fn public_jwks(&self) -> Vec<jsonwebtoken::jwk::Jwk> {
        Vec::new()
    }

    /// The JWT strategy that signs this strategy's tokens, if it is one:
    /// [`Warden::strategy`](crate::Warden::strategy) hands it out to issue tokens by
    /// hand.
    fn as_jwt(&self) -> Option<&JwtStrategy> {
        None
    }

    /// Whether its tokens are API keys, which no route signs in with: the
    /// backend serves no login, logout or refresh route.
    fn is_api_key(&self) -> bool {
        false
    }
}

/// A verified token, remembered by its exact bytes.
#[derive(Clone)]
struct Verified {
    info: TokenInfo,
    exp: Option<i64>,
}

/// [`JwtStrategy`] as a backend's strategy, with a cache of tokens it verified.
///
/// Guarded requests present the same token over and over; verifying it once and
/// then comparing bytes saves the signature check. Only valid tokens are cached,
/// keyed by their exact bytes, and `exp` is checked again on every hit, so a cached
/// token is accepted exactly when verifying it again would accept it (nothing else
/// in a verification depends on time: `nbf` and `iat` were already in the past).
pub struct CachedJwt {
    jwt: JwtStrategy,
    verified: Option<Cache<Box<str>, Arc<Verified>>>,
}

impl std::fmt::Debug for CachedJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedJwt").field("jwt", &self.jwt).finish()
    }
}

impl CachedJwt {
    /// Caches up to `capacity` verified tokens (0: none), each for at most ten
    /// minutes.
    pub fn new(jwt: JwtStrategy, capacity: u64) -> Self {
        let verified = (capacity > 0).then(|| {
            Cache::builder()
                .max_capacity(capacity)
                .time_to_live(Duration::from_secs(600))
                .build()
        });
        Self { jwt, verified }
    }

    /// The JWT strategy.
    pub fn jwt(&self) -> &JwtStrategy {
        &self.jwt
    }

    fn read(&self, token: &str) -> Option<TokenInfo> {
        let now = self.jwt.clock().now();
        if let Some(cache) = &self.verified
            && let Some(hit) = cache.get(token)
        {
            // PyJWT's rule, as the verifier applies it: expired when exp <= now.
            return hit
                .exp
                .is_none_or(|exp| exp > now)
                .then(|| hit.info.clone());
        }
        let claims = match self.jwt.verify(token) {
            Ok(claims) => claims,
            Err(error) => {
                tracing::debug!(%error, "token refused");
                return None;
            }
        };
        let exp = claims.exp;
        let info = info_of(claims, self.jwt.lifetime());
        if let Some(cache) = &self.verified {
            cache.insert(
                token.into(),
                Arc::new(Verified {
                    info: info.clone(),
                    exp,
                }),
            );
        }
        Some(info)
    }
}

/// What a verified JWT says. A token without `iat` (FastAPI Users' layout) is
/// undated: taken as issued one lifetime before its `exp` where a start is needed
/// (a refresh's session), but cut off by any cut-off of its user.
fn info_of(claims: crate::token::VerifiedClaims, lifetime: Lifetime) -> TokenInfo {
    let issued_at = claims.iat.or(match (claims.exp, lifetime) {
        (Some(exp), Lifetime::Seconds(seconds)) => {
            Some(exp.saturating_sub(i64::try_from(seconds).unwrap_or(i64::MAX)))
        }
        _ => None,
    });
    TokenInfo {
        subject: claims.sub,
        session_required: claims.sid.is_some(),
        session: claims.sid,
        undated: claims.iat.is_none(),
        issued_at,
        auth_time: claims.auth_time,
        amr: claims.amr.into(),
        api_key: None,
    }
}

/// A JWT of the grant's session.
fn issue(jwt: &JwtStrategy, grant: &Grant<'_>) -> Result<Issued, StrategyError> {
    let session = crate::token::SessionClaims {
        sid: grant.session,
        auth_time: grant.auth_time,
        expires_at: grant.expires_at,
        amr: grant.amr,
        acr: grant.acr,
        act: grant.actor,
    };
    Ok(Issued::new(jwt.issue_session(grant.subject, &session)?).in_session(grant.session))
}

#[async_trait]
impl Strategy for CachedJwt {
    async fn read_token(&self, token: &str) -> Result<Option<TokenInfo>, StrategyError> {
        Ok(self.read(token))
    }

    async fn write_token(&self, grant: &Grant<'_>) -> Result<Issued, StrategyError> {
        issue(&self.jwt, grant)
    }

    fn lifetime(&self) -> Option<u64> {
        Strategy::lifetime(&self.jwt)
    }

    fn public_jwks(&self) -> Vec<jsonwebtoken::jwk::Jwk> {
        self.jwt.public_jwks()
    }

    fn as_jwt(&self) -> Option<&JwtStrategy> {
        Some(&self.jwt)
    }
}

#[async_trait]
impl Strategy for JwtStrategy {
    async fn read_token(&self, token: &str) -> Result<Option<TokenInfo>, StrategyError> {
        Ok(self
            .verify(token)
            .ok()
            .map(|claims| info_of(claims, JwtStrategy::lifetime(self))))
    }

    async fn write_token(&self, grant: &Grant<'_>) -> Result<Issued, StrategyError> {
        issue(self, grant)
    }

    fn lifetime(&self) -> Option<u64> {
        match JwtStrategy::lifetime(self) {
            Lifetime::Seconds(seconds) => Some(seconds),
            Lifetime::Forever => None,
        }
    }

    fn public_jwks(&self) -> Vec<jsonwebtoken::jwk::Jwk> {
        JwtStrategy::public_jwks(self)
    }

    fn as_jwt(&self) -> Option<&JwtStrategy> {
        Some(self)
    }
}

impl From<StrategyError> for crate::error::ApiError {
    fn from(error: StrategyError) -> Self {
        if let StrategyError::RateLimited { retry_after } = error {
            return Self::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                serde_json::Value::from("Too Many Requests"),
            )
            .retry_after(retry_after);
        }
        tracing::error!(%error, "token strategy failed");
        match error {
            StrategyError::Unavailable(_) => Self::unavailable(),
            _ => Self::internal(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(lifetime: u64) -> JwtStrategy {
        JwtStrategy::builder(
            "a-secret-of-at-least-thirty-two-bytes",
            Lifetime::Seconds(lifetime),
        )
        .build()
        .unwrap()
    }

    #[tokio::test]
    async fn cached_tokens_read_like_fresh_ones() {
        let strategy = CachedJwt::new(jwt(60), 100);
        let grant = Grant::new("user-1", "s1", crate::token::now(), None);
        let token = strategy.write_token(&grant).await.unwrap().token;
        for _ in 0..2 {
            let info = strategy.read_token(&token).await.unwrap().unwrap();
            assert_eq!(
                (info.subject.as_str(), info.session.as_deref()),
                ("user-1", Some("s1"))
            );
        }
        let mut tampered = token.clone();
        tampered.pop();
        assert_eq!(strategy.read_token(&tampered).await.unwrap(), None);
        assert_eq!(strategy.read_token("garbage").await.unwrap(), None);
    }

    #[test]
    fn an_expired_cached_token_is_refused() {
        let strategy = CachedJwt::new(jwt(60), 100);
        let token = strategy.jwt().issue("user-1").unwrap();
        assert!(strategy.read(&token).is_some());
        // Age the cached entry past its exp: the hit must be refused.
        let cache = strategy.verified.as_ref().unwrap();
        cache.insert(
            token.as_str().into(),
            Arc::new(Verified {
                info: TokenInfo::new("user-1"),
                exp: Some(crate::token::now() - 1),
            }),
        );
        assert!(strategy.read(&token).is_none());
    }
}
