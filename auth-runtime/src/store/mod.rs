//! User persistence: the [`UserStore`] trait, its SQLite and in-memory stores, and
//! the cache warden puts in front of any store.

mod access_tokens;
mod api_keys;
pub(crate) mod audit;
pub(crate) mod bans;
mod cache;
pub(crate) mod counters;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod database;
mod listing;
mod memory;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod migrate;
mod oauth_accounts;
mod passkeys;
#[cfg(feature = "postgres")]
mod postgres;
pub(crate) mod sessions;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod table;
pub(crate) mod two_factor;

use async_trait::async_trait;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::model::UserModel;
use crate::user::User;

pub use access_tokens::{AccessTokenStore, StoredToken};
pub use api_keys::{ApiKeyStore, StoredApiKey};
pub use audit::{AuditStore, MemoryAudit, StoredEvent};
pub use bans::{Ban, BanStore, MAX_BAN_REASON, MemoryBans};
pub use cache::CacheSettings;
pub(crate) use cache::CachedStore;
pub use counters::{Counters, MemoryCounters};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use database::DatabaseStore;
pub use listing::UserFilter;
pub(crate) use listing::id_order;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) use listing::like_prefix;
pub use memory::MemoryStore;
pub use oauth_accounts::{OAuthAccount, OAuthAccountStore};
pub use passkeys::{Ceremony, PasskeyStore, StoredPasskey};
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg(feature = "postgres")]
pub(crate) use postgres::listen;
pub use sessions::{MemorySessions, SessionStore};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
pub use two_factor::{MemoryTwoFactor, MfaChallenge, TwoFactorRecord, TwoFactorStore};

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another user has this e-mail or login (compared case-insensitively). Raised
    /// by the database's unique index, so it holds under concurrency.
    #[error("a user with this e-mail or login exists")]
    Duplicate,
    /// No user has this id.
    #[error("no such user")]
    NotFound,
    /// The user changed since it was read.
    #[error("the user changed meanwhile")]
    Conflict,
    /// The database failed.
    #[error("database error: {0}")]
    Database(String),
    /// The database holds something we cannot read (a malformed id, say).
    #[error("corrupt user record: {0}")]
    Corrupt(String),
    /// The existing table does not fit the model: one line per problem, each naming
    /// the statement that fixes it.
    #[error("the user table does not match the model:\n{0}")]
    Schema(String),
    /// The store does not implement this operation (a third-party store written
    /// before it existed): the name says which.
    #[error("this store does not support {0}")]
    Unsupported(&'static str),
}

/// Where users of model `U` live. Implementations must enforce unique e-mails and
/// logins ([`UserModel::LOGIN`]) case-insensitively in the storage itself (an index,
/// a lock), never by a check-then-insert.
///
/// `store::contract::check` (cargo feature
/// `store-contract`) runs the cases every store must pass.
#[async_trait]
pub trait UserStore<U: UserModel = User>: Send + Sync + 'static {
    /// The user with this id.
    async fn get(&self, id: &U::Id) -> Result<Option<U>, StoreError>;
    /// The user with this e-mail, compared case-insensitively; `None` for a model
    /// without an e-mail.
    async fn get_by_email(&self, email: &str) -> Result<Option<U>, StoreError>;
    /// The user who logs in with `login` (the e-mail, or the model's
    /// [`LOGIN`](UserModel::LOGIN) field), compared case-insensitively.
    async fn get_by_login(&self, login: &str) -> Result<Option<U>, StoreError>;
    /// Inserts a new user and returns it as stored (with the id the store assigned,
    /// for integer ids); [`StoreError::Duplicate`] if the e-mail or login is taken.
    async fn create(&self, user: U) -> Result<U, StoreError>;
    /// Replaces a stored user's fields; [`StoreError::NotFound`] if it is gone.
    async fn update(&self, user: U) -> Result<U, StoreError>;
    /// Replaces the stored user with `new` only if it still equals `expected`,
    /// atomically; [`StoreError::Conflict`] if another write came first. Operations
    /// that read, work (hash a password) and then write use it, so they never undo a
    /// change made meanwhile (an admin's deactivation, say).
    async fn replace(&self, expected: &U, new: U) -> Result<U, StoreError>;
    /// Deletes a user; [`StoreError::NotFound`] if there was none.
    async fn delete(&self, id: &U::Id) -> Result<(), StoreError>;

    /// At most `limit` users that `filter` keeps, in ascending id order (integers
    /// by value, UUIDs by their text), starting after the id `after`: the pages of
    /// the admin user list. The default answers [`StoreError::Unsupported`], so a
    /// store written before it keeps compiling (its admin list answers 501).
    async fn list(
        &self,
        filter: &UserFilter,
        after: Option<&U::Id>,
        limit: usize,
    ) -> Result<Vec<U>, StoreError> {
        let _ = (filter, after, limit);
        Err(StoreError::Unsupported("listing users"))
    }

    /// Whether other processes (other instances of the application) write to the same
    /// users. The cache in front of a shared store trusts itself only while
    /// [`changes`](Self::changes) tells it what the others change.
    fn shared(&self) -> bool {
        false
    }

    /// The users other processes change, as they change them (a PostgreSQL store
    /// listens for its own announcements). `None`: no such feed.
    fn changes(&self) -> Option<mpsc::UnboundedReceiver<StoreChange>> {
        None
    }

    /// Where login throttling counts failures, in the same database so every
    /// instance counts together. `None` (the default): warden counts in memory, per
    /// instance.
    fn counters(&self) -> Option<Arc<dyn Counters>> {
        None
    }

    /// Where sessions, refresh tokens and token cut-offs live, in the same database
    /// so every instance sees the same ones. `None` (the default): warden keeps them
    /// in memory, per instance.
    fn sessions(&self) -> Option<Arc<dyn SessionStore>> {
        None
    }

    /// FastAPI Users' `accesstoken` table, for backends declared with
    /// `strategy = "database"`. `None` (the default): such backends cannot use
    /// this store.
    fn access_tokens(&self) -> Option<Arc<dyn AccessTokenStore>> {
        None
    }

    /// FastAPI Users' `oauth_account` table, for "log in with ..." routers. `None`
    /// (the default): such routers cannot use this store.
    fn oauth_accounts(&self) -> Option<Arc<dyn OAuthAccountStore>> {
        None
    }

    /// Where two-factor authentication keeps its secrets, recovery codes and
    /// sign-in challenges, in the same database so every instance agrees (a time
    /// step or a recovery code accepted on one is refused on the others). `None`
    /// (the default): two-factor authentication cannot use this store.
    fn two_factor(&self) -> Option<Arc<dyn TwoFactorStore>> {
        None
    }

    /// Passkeys, their users' handles and ceremonies in progress, for
    /// `WardenBuilder::passkeys`. `None` (the default): passkeys cannot use this
    /// store.
    fn passkeys(&self) -> Option<Arc<dyn PasskeyStore>> {
        None
    }

    /// Bans (warden's `warden_ban` table), in the same database so a ban made on
    /// one instance, or by the CLI, is refused at every instance's sign-in step.
    /// `None` (the default): users of this store cannot be banned
    /// (`UserManager::ban` answers [`StoreError::Unsupported`]).
    fn bans(&self) -> Option<Arc<dyn BanStore>> {
        None
    }

    /// Where the audit trail (`WardenBuilder::audit_trail`) keeps security events,
    /// in the same database. `None` (the default): the audit trail cannot use this
    /// store.
    fn audit(&self) -> Option<Arc<dyn AuditStore>> {
        None
    }

    /// API keys (personal access tokens), for a backend of strategy `api_key`.
    /// `None` (the default): API keys cannot use this store.
    fn api_keys(&self) -> Option<Arc<dyn ApiKeyStore>> {
        None
    }
}

/// The SHA-256 of a secret token, base64url: what is stored instead of it (refresh
/// tokens, opaque access tokens in Redis), so a read of the database yields no
/// usable token.
pub(crate) fn token_hash(token: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()))
}

/// `url` with its password (in the user-info part or a `password=` parameter)
/// replaced by `***`, for messages and logs.
///
/// ```
/// use warden_runtime::store::redact_url;
/// assert_eq!(redact_url("postgres://app:s3cret@db/app"), "postgres://app:***@db/app");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let mut redacted = format!("{scheme}://");
    match before_query.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => redacted.push_str(&format!("{user}:***@{host}")),
            None => redacted.push_str(before_query),
        },
        None => redacted.push_str(before_query),
    }
    if let Some(query) = query {
        let parameters: Vec<String> = query
            .split('&')
            .map(|parameter| match parameter.split_once('=') {
                Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
                _ => parameter.to_owned(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&parameters.join("&"));
    }
    redacted
}

/// What a shared store's change feed reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreChange {
    /// The user with this id (as text) changed or was deleted.
    User(String),
    /// The feed broke: changes may be missed until [`StoreChange::Restored`].
    Lost,
    /// The feed works (again): nothing is missed from now on.
    Restored,
    /// A session (by id) ended, or every session of a user (`user:<id>`).
    Session(String),
    /// The feed's own ping came back: it still delivers. A feed that pings stays
    /// trusted only while it is heard from every few seconds.
    Alive,
}

/// How often a change feed pings its own channel (PostgreSQL's `LISTEN`): a
/// connection that died without an error (a dropped TCP path, a proxy's idle
/// timeout) reports nothing, so only silence tells.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) const FEED_PING_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// A change feed not heard from for this long (three missed pings) is taken as
/// broken: caches that trust it are bypassed until it is heard again, and the
/// listener reconnects.
pub(crate) const FEED_SILENT_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

impl From<StoreError> for crate::error::ApiError {
    /// A database out of reach is 503 (the client may retry); anything else the
    /// store reports is 500. The cause is logged, never sent.
    fn from(error: StoreError) -> Self {
        tracing::error!(%error, "user store failed");
        match error {
            StoreError::Database(_) => Self::unavailable(),
            _ => Self::internal(),
        }
    }
}

#[cfg(any(test, feature = "store-contract"))]
pub mod contract;

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example.com:5432/app"),
            "postgres://app:***@db.example.com:5432/app"
        );
        assert_eq!(
            redact_url("postgresql://app:p@ss@host/db?sslmode=require"),
            "postgresql://app:***@host/db?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://app@host/db?sslmode=require&password=s3cret"),
            "postgres://app@host/db?sslmode=require&password=***"
        );
        assert_eq!(redact_url("postgres://host/db"), "postgres://host/db");
        assert_eq!(redact_url("sqlite://warden.db"), "sqlite://warden.db");
        assert_eq!(redact_url("warden.db"), "warden.db");
    }
}
