//! FastAPI Users' `DatabaseStrategy`: opaque random tokens in the store's database,
//! in its `accesstoken` table (`token`, `created_at`, `user_id`), so the live tokens
//! of a database migrated from FastAPI Users keep working, and logout deletes the
//! row. Each token warden writes is recorded with its login's session (beside the
//! row, in a warden table), so a refresh continues that login: logging out any of
//! its tokens, or reusing a spent refresh token, ends them all.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Grant, Issued, Strategy, StrategyError, TokenInfo, opaque_token, plausible_token};
use crate::store::{AccessTokenStore, StoreError, token_hash};
use crate::token::Lifetime;

/// Opaque tokens in the store's `accesstoken` table.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use warden_runtime::strategy::DatabaseStrategy;
/// use warden_runtime::{Grant, Lifetime, MemoryStore, Strategy, User, UserStore};
/// let store = MemoryStore::<User>::new();
/// let strategy = DatabaseStrategy::new(store.access_tokens().unwrap(), Lifetime::Seconds(3600));
/// let issued = strategy.write_token(&Grant::new("user-1", "s1", 0, None)).await?;
/// assert_eq!(strategy.read_token(&issued.token).await?.unwrap().subject, "user-1");
/// strategy.destroy_token(&issued.token, "user-1").await?;
/// assert!(strategy.read_token(&issued.token).await?.is_none());
/// # Ok::<(), warden_runtime::StrategyError>(()) }).unwrap();
/// ```
pub struct DatabaseStrategy {
    tokens: Arc<dyn AccessTokenStore>,
    lifetime: Lifetime,
    clock: crate::clock::Clock,
}

impl std::fmt::Debug for DatabaseStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseStrategy")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl DatabaseStrategy {
    /// Tokens in `tokens` (a store's [`access_tokens`](crate::UserStore::access_tokens)),
    /// valid for `lifetime` after their creation.
    pub fn new(tokens: Arc<dyn AccessTokenStore>, lifetime: Lifetime) -> Self {
        Self {
            tokens,
            lifetime,
            clock: crate::clock::Clock::system(),
        }
    }

    /// The same strategy, measuring token age on `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> Self {
        self.clock = clock;
        self
    }
}

fn unavailable(error: StoreError) -> StrategyError {
    StrategyError::Unavailable(error.to_string())
}

#[async_trait]
impl Strategy for DatabaseStrategy {
    async fn read_token(&self, token: &str) -> Result<Option<TokenInfo>, StrategyError> {
        if !plausible_token(token) {
            return Ok(None);
        }
        let not_before = match self.lifetime {
            Lifetime::Seconds(seconds) => Some(
                self.clock
                    .now()
                    .saturating_sub(i64::try_from(seconds).unwrap_or(i64::MAX)),
            ),
            Lifetime::Forever => None,
        };
        let found = self
            .tokens
            .find(token, not_before)
            .await
            .map_err(unavailable)?;
        Ok(found.map(|found| {
            let info = TokenInfo::new(found.user_id).issued(Some(found.created_at));
            match found.session {
                Some(session) => info.in_session(session),
                // FastAPI Users' row, or an earlier warden's (whose session was the
                // token's hash): judged by that session if any, else the cut-off.
                None => info.in_derived_session(token_hash(token)),
            }
        }))
    }

    async fn write_token(&self, grant: &Grant<'_>) -> Result<Issued, StrategyError> {
        let token = opaque_token()?;
        self.tokens
            .insert(&token, grant.subject, self.clock.now(), grant.session)
            .await
            .map_err(unavailable)?;
        Ok(Issued::new(token).in_session(grant.session))
    }

    async fn destroy_token(&self, token: &str, _subject: &str) -> Result<(), StrategyError> {
        self.tokens.delete(token).await.map_err(unavailable)
    }

    async fn bind_token(&self, token: &str, session: &str) -> Result<(), StrategyError> {
        if !plausible_token(token) {
            return Ok(());
        }
        self.tokens
            .bind(token, session, self.clock.now())
            .await
            .map_err(unavailable)
    }

    fn lifetime(&self) -> Option<u64> {
        match self.lifetime {
            Lifetime::Seconds(seconds) => Some(seconds),
            Lifetime::Forever => None,
        }
    }
}
