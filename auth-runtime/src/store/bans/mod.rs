//! Bans as stored: one [`Ban`] per banned user in warden's own `warden_ban` table
//! (schema step 7), so FastAPI Users' `user` table keeps its shape; the
//! [`BanStore`] trait that keeps them, in memory ([`MemoryBans`]) and in the
//! store's database.
//!
//! A ban's expiry is judged by the reader against the warden's clock
//! ([`Ban::is_active`]): an expired row is a ban that no longer holds, left for the
//! next ban or unban to replace.

mod memory;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod sql;

use async_trait::async_trait;

pub use memory::MemoryBans;

use super::StoreError;

/// The longest ban reason kept, in bytes (the column's size).
pub const MAX_BAN_REASON: usize = 500;

/// A user's ban.
///
/// ```
/// use warden_runtime::store::Ban;
/// let ban = Ban::new("42", 1_000).until(Some(2_000)).reason(Some("spam"));
/// assert!(ban.is_active(1_999));
/// assert!(!ban.is_active(2_000));
/// assert!(Ban::new("42", 1_000).is_active(i64::MAX), "no end: until unbanned");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ban {
    /// The user's id, as text.
    pub user_id: String,
    /// Why, as the operator wrote it: shown to operators, never to the user.
    pub reason: Option<String>,
    /// When it was imposed (Unix seconds).
    pub created_at: i64,
    /// When it ends by itself (Unix seconds); `None`: until an unban.
    pub until: Option<i64>,
    /// The superuser who imposed it (their id), `None` for the CLI or code.
    pub by: Option<String>,
}

impl Ban {
    /// A ban of `user_id` from `created_at`, until an unban, with no reason.
    pub fn new(user_id: impl Into<String>, created_at: i64) -> Self {
        Self {
            user_id: user_id.into(),
            reason: None,
            created_at,
            until: None,
            by: None,
        }
    }

    /// Ending by itself at `until` (`None`: never).
    pub fn until(mut self, until: Option<i64>) -> Self {
        self.until = until;
        self
    }

    /// With this reason.
    pub fn reason(mut self, reason: Option<&str>) -> Self {
        self.reason = reason.map(str::to_owned);
        self
    }

    /// Imposed by this superuser.
    pub fn by(mut self, by: Option<&str>) -> Self {
        self.by = by.map(str::to_owned);
        self
    }

    /// Whether it holds at `now`.
    pub fn is_active(&self, now: i64) -> bool {
        self.until.is_none_or(|end| now < end)
    }
}

/// Where bans live, for every instance: the sign-in step of each reads the same
/// row, so a ban made on one (or by the CLI) is refused on all.
///
/// `store::contract::check` (cargo feature `store-contract`) runs the cases every
/// implementation must pass.
#[async_trait]
pub trait BanStore: Send + Sync + 'static {
    /// The user's ban, active or expired; `None` if there is none.
    async fn get(&self, user_id: &str) -> Result<Option<Ban>, StoreError>;
    /// Records `ban`, replacing the user's earlier one (a new reason or end).
    async fn put(&self, ban: &Ban) -> Result<(), StoreError>;
    /// Lifts the user's ban; whether there was one.
    async fn remove(&self, user_id: &str) -> Result<bool, StoreError>;
}
