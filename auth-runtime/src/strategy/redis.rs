//! FastAPI Users' `RedisStrategy`: opaque random tokens as Redis keys
//! `fastapi_users_token:<token>` holding the user id, expiring with the token
//! (`SET ... EX lifetime`), so FastAPI Users and warden read each other's tokens;
//! logout deletes the key. Beside each token warden writes, a key of its own
//! (`warden_token_session:<token hash>`, same expiry) names the login's session, so a
//! refresh continues that login and its end ends every token of it.

use std::time::Duration;

use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Grant, Issued, Strategy, StrategyError, TokenInfo, opaque_token, plausible_token};
use crate::store::token_hash;
use crate::token::Lifetime;

/// FastAPI Users' key prefix.
pub const KEY_PREFIX: &str = "fastapi_users_token:";

/// The prefix of warden's own keys naming a token's login session; the token's
/// hash follows, so no second copy of a live token is stored.
pub const SESSION_KEY_PREFIX: &str = "warden_token_session:";

/// How long a Redis command may take before the request is answered 503.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Opaque tokens in Redis.
///
/// ```no_run
/// # fn run() -> Result<(), warden_runtime::ConfigError> {
/// use warden_runtime::Lifetime;
/// use warden_runtime::strategy::RedisStrategy;
/// let strategy = RedisStrategy::open("redis://127.0.0.1:6379/0", Lifetime::Seconds(3600))?;
/// # Ok(()) }
/// ```
pub struct RedisStrategy {
    redis: ConnectionManager,
    lifetime: Lifetime,
    prefix: String,
}

impl std::fmt::Debug for RedisStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStrategy")
            .field("lifetime", &self.lifetime)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStrategy {
    /// Tokens in the Redis at `url` (`redis://[:password@]host:port/db`), connected
    /// on first use and reconnected by itself; while Redis is out of reach, its
    /// routes answer 503. Call within a Tokio runtime.
    pub fn open(url: &str, lifetime: Lifetime) -> Result<Self, crate::ConfigError> {
        let bad = |error: redis::RedisError| crate::ConfigError::BadOption {
            backend: "redis".into(),
            option: "redis_url",
            problem: format!(
                "{} is not a usable Redis URL ({error}); write redis://host:6379/0",
                crate::store::redact_url(url)
            ),
        };
        let client = redis::Client::open(url).map_err(bad)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(2);
        let redis = client.get_connection_manager_lazy(config).map_err(bad)?;
        Ok(Self {
            redis,
            lifetime,
            prefix: KEY_PREFIX.to_owned(),
        })
    }

    /// Another key prefix than FastAPI Users'.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn key(&self, token: &str) -> String {
        format!("{}{token}", self.prefix)
    }

    fn session_key(token: &str) -> String {
        format!("{SESSION_KEY_PREFIX}{}", token_hash(token))
    }
}

fn unavailable(error: redis::RedisError) -> StrategyError {
    StrategyError::Unavailable(format!("redis: {error}"))
}

#[async_trait]
impl Strategy for RedisStrategy {
    async fn read_token(&self, token: &str) -> Result<Option<TokenInfo>, StrategyError> {
        if !plausible_token(token) {
            return Ok(None);
        }
        let mut redis = self.redis.clone();
        let (user_id, session): (Option<String>, Option<String>) = redis::pipe()
            .get(self.key(token))
            .get(Self::session_key(token))
            .query_async(&mut redis)
            .await
            .map_err(unavailable)?;
        Ok(user_id.map(|user_id| {
            let info = TokenInfo::new(user_id);
            match session {
                Some(session) => info.in_session(session),
                // FastAPI Users' key, or an earlier warden's (whose session was the
                // token's hash).
                None => info.in_derived_session(token_hash(token)),
            }
        }))
    }

    async fn write_token(&self, grant: &Grant<'_>) -> Result<Issued, StrategyError> {
        let token = opaque_token()?;
        let mut redis = self.redis.clone();
        let key = self.key(&token);
        let session_key = Self::session_key(&token);
        // MULTI/EXEC: no token is ever read without its login.
        let mut pipe = redis::pipe();
        pipe.atomic();
        match self.lifetime {
            Lifetime::Seconds(seconds) => pipe
                .set_ex(key, grant.subject, seconds)
                .ignore()
                .set_ex(session_key, grant.session, seconds)
                .ignore(),
            Lifetime::Forever => pipe
                .set(key, grant.subject)
                .ignore()
                .set(session_key, grant.session)
                .ignore(),
        };
        pipe.query_async::<()>(&mut redis)
            .await
            .map_err(unavailable)?;
        Ok(Issued::new(token).in_session(grant.session))
    }

    async fn destroy_token(&self, token: &str, _subject: &str) -> Result<(), StrategyError> {
        let mut redis = self.redis.clone();
        redis
            .del::<_, ()>(&[self.key(token), Self::session_key(token)])
            .await
            .map_err(unavailable)
    }

    async fn bind_token(&self, token: &str, session: &str) -> Result<(), StrategyError> {
        if !plausible_token(token) {
            return Ok(());
        }
        let mut redis = self.redis.clone();
        // The binding lives exactly as long as FastAPI Users' key: its remaining
        // time (-1: none; -2: the key is gone, nothing to bind).
        let left: i64 = redis.pttl(self.key(token)).await.map_err(unavailable)?;
        let key = Self::session_key(token);
        let mut set = redis::cmd("SET");
        set.arg(&key).arg(session).arg("NX");
        match left {
            -2 => return Ok(()),
            millis if millis > 0 => {
                set.arg("PX").arg(millis);
            }
            _ => {}
        }
        set.query_async::<()>(&mut redis).await.map_err(unavailable)
    }

    fn lifetime(&self) -> Option<u64> {
        match self.lifetime {
            Lifetime::Seconds(seconds) => Some(seconds),
            Lifetime::Forever => None,
        }
    }
}
