//! Sessions: every login opens one, every token it yields names it (the JWT `sid`
//! claim, or the hash of an opaque token), and ending it ends all of them on every
//! instance at once (OWASP ASVS 7.4.1, 7.4.2). Revocation is keyed on this
//! server-side state, never on token bytes (ECDSA signatures are malleable, RFC 8725
//! §2.1 footnote, so a byte-keyed deny list can be bypassed).
//!
//! [`SessionStore`] keeps sessions, rotating refresh tokens and per-user cut-offs in
//! the store's database (tables `warden_session`, `warden_refresh_token`,
//! `warden_token_cutoff`); [`Sessions`] puts a cache in front that every end
//! invalidates, on other instances through the database's change feed.

mod book;
mod memory;
pub(crate) mod sql;

use async_trait::async_trait;
use tokio::sync::mpsc;

pub use book::{Admission, Sessions};
pub(crate) use book::{random_id, token_hash};
pub use memory::MemorySessions;

use crate::store::{StoreChange, StoreError};

/// The longest `User-Agent` kept with a session, in bytes.
pub const MAX_USER_AGENT: usize = 512;

/// One login: what `GET /users/me/sessions` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Session {
    /// Random id (or, for an opaque token, a hash of it): the JWT `sid` claim.
    pub id: String,
    /// The user's id, as text.
    pub user_id: String,
    /// The backend logged in through.
    pub backend: String,
    /// The login time (Unix seconds): refreshes keep it.
    pub created_at: i64,
    /// When a token of the session was last accepted (to the minute).
    pub last_used_at: i64,
    /// When the session ends whatever happens (the backend's maximum session age);
    /// `None` under `lifetime = forever`.
    pub expires_at: Option<i64>,
    /// The `User-Agent` of the login request.
    pub user_agent: Option<String>,
    /// When it was ended (logout, revocation); `None` while it lives.
    pub ended_at: Option<i64>,
}

impl Session {
    /// A session of `user_id` opened now through `backend`.
    pub fn new(
        id: impl Into<String>,
        user_id: impl Into<String>,
        backend: impl Into<String>,
        created_at: i64,
        expires_at: Option<i64>,
    ) -> Self {
        Self {
            id: id.into(),
            user_id: user_id.into(),
            backend: backend.into(),
            created_at,
            last_used_at: created_at,
            expires_at,
            user_agent: None,
            ended_at: None,
        }
    }

    /// With the login request's `User-Agent`, cut to [`MAX_USER_AGENT`] bytes.
    pub fn user_agent(mut self, user_agent: Option<&str>) -> Self {
        self.user_agent = user_agent.map(|agent| {
            let mut end = agent.len().min(MAX_USER_AGENT);
            while !agent.is_char_boundary(end) {
                end -= 1;
            }
            agent[..end].to_owned()
        });
        self
    }

    /// Whether its tokens are accepted at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.ended_at.is_none() && self.expires_at.is_none_or(|end| now < end)
    }
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshUse {
    /// Unused and unexpired: it is now used, and belongs to this session.
    Fresh {
        /// The session of the token.
        session: String,
    },
    /// Used before: someone replays a rotated token (RFC 9700 §4.14.2).
    Reused {
        /// The session of the token, whose whole family must end.
        session: String,
    },
    /// Unknown, or expired.
    Unknown,
}

/// Where sessions, refresh tokens and per-user cut-offs live, for every instance.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Stores a new session.
    async fn create(&self, session: &Session) -> Result<(), StoreError>;
    /// The session with this id, ended or not.
    async fn get(&self, id: &str) -> Result<Option<Session>, StoreError>;
    /// The user's live sessions at `now`, newest first.
    async fn list(&self, user_id: &str, now: i64) -> Result<Vec<Session>, StoreError>;
    /// Records a use of the session at `at`.
    async fn touch(&self, id: &str, at: i64) -> Result<(), StoreError>;
    /// Ends one session (its refresh tokens die with it) at `at`, announcing it to the other
    /// instances; whether it was live.
    async fn end(&self, id: &str, at: i64) -> Result<bool, StoreError>;
    /// Ends every session of a user and refuses their tokens that name no session
    /// issued up to `at` (FastAPI Users' or an earlier warden's), announcing it.
    async fn end_user(&self, user_id: &str, at: i64) -> Result<(), StoreError>;
    /// The time up to which the user's tokens without a session are refused.
    async fn cutoff(&self, user_id: &str) -> Result<Option<i64>, StoreError>;
    /// Stores a refresh token's hash for a session.
    async fn add_refresh(
        &self,
        hash: &str,
        session: &str,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// Uses a refresh token at `at`, atomically: only one of several concurrent uses
    /// finds it [`Fresh`](RefreshUse::Fresh).
    async fn use_refresh(&self, hash: &str, at: i64) -> Result<RefreshUse, StoreError>;
    /// Forgets sessions and refresh tokens that expired before `before`.
    async fn purge(&self, before: i64) -> Result<(), StoreError>;
    /// Ends announced by other instances: a session id, or `user:<id>` for all of
    /// a user's. `None`: no such feed (this process is the only writer).
    fn changes(&self) -> Option<mpsc::UnboundedReceiver<StoreChange>> {
        None
    }
}
