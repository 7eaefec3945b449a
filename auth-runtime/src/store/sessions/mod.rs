//! Sessions as stored: [`Session`], the [`SessionStore`] trait that keeps them with
//! their rotating refresh tokens and per-user cut-offs, and its implementations in
//! memory and in the store's database (tables `warden_session`,
//! `warden_refresh_token`, `warden_token_cutoff`). The cache and the rules in front
//! of them are [`Sessions`](crate::session::Sessions).

mod memory;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod sql;

use async_trait::async_trait;
use tokio::sync::mpsc;

pub use memory::MemorySessions;

use super::{StoreChange, StoreError};

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
    /// The last sign-in: the login, or the latest re-authentication (what
    /// `fresh = N` guards measure; a refresh keeps it).
    pub authenticated_at: i64,
    /// How the user proved who they are at that sign-in (RFC 8176 `amr` values).
    pub amr: Vec<String>,
    /// The superuser (their id) acting as the user, for an impersonation session
    /// (`POST /users/{id}/impersonate`); `None` for the user's own sessions.
    pub actor: Option<String>,
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
            authenticated_at: created_at,
            amr: Vec::new(),
            actor: None,
        }
    }

    /// An impersonation session: the superuser `actor` (their id) acts as the user.
    pub fn impersonated_by(mut self, actor: Option<&str>) -> Self {
        self.actor = actor.map(str::to_owned);
        self
    }

    /// Signed in last at `at` by the methods `amr` (a session continued from an
    /// earlier sign-in, or re-authenticated).
    pub fn authenticated(mut self, at: i64, amr: &[String]) -> Self {
        self.authenticated_at = at;
        self.amr = amr.to_vec();
        self
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
    /// Records a new sign-in of a live session (re-authentication) at `at`, proved
    /// by `amr`, and spends the session's unspent refresh tokens: only a refresh
    /// token issued from now on carries the new sign-in, and a copy of an older one
    /// presented later counts as reuse. Whether the session was live.
    async fn renew(&self, id: &str, at: i64, amr: &[String]) -> Result<bool, StoreError>;
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
    /// The session a refresh token belongs to, used or not.
    async fn refresh_session(&self, hash: &str) -> Result<Option<String>, StoreError>;
    /// Uses a refresh token at `at`, atomically: only one of several concurrent uses
    /// finds it [`Fresh`](RefreshUse::Fresh).
    async fn use_refresh(&self, hash: &str, at: i64) -> Result<RefreshUse, StoreError>;
    /// Forgets sessions and refresh tokens that expired before `before`. An ended
    /// session is kept until its own end (`expires_at`), which caps every token it
    /// issued, and forever without one: a token naming a session that is not found
    /// is refused, but only its row tells an ended login from a lost one.
    async fn purge(&self, before: i64) -> Result<(), StoreError>;
    /// Ends announced by other instances: a session id, or `user:<id>` for all of
    /// a user's. `None`: no such feed (this process is the only writer).
    fn changes(&self) -> Option<mpsc::UnboundedReceiver<StoreChange>> {
        None
    }
}

#[cfg(test)]
pub(crate) mod contract {
    //! What every [`SessionStore`] does, run on each.

    use super::{RefreshUse, Session, SessionStore};

    pub(crate) async fn check(store: &dyn SessionStore) {
        store
            .create(&Session::new("s1", "u1", "jwt", 100, Some(1000)))
            .await
            .unwrap();
        store
            .create(&Session::new("s2", "u1", "jwt", 200, None).user_agent(Some("agent")))
            .await
            .unwrap();
        store
            .create(&Session::new("s3", "u2", "jwt", 300, Some(1000)))
            .await
            .unwrap();
        let ids = |sessions: Vec<Session>| sessions.into_iter().map(|s| s.id).collect::<Vec<_>>();
        assert_eq!(ids(store.list("u1", 500).await.unwrap()), ["s2", "s1"]);
        assert_eq!(ids(store.list("u1", 1000).await.unwrap()), ["s2"]);

        store.touch("s1", 160).await.unwrap();
        store.touch("s1", 150).await.unwrap();
        assert_eq!(store.get("s1").await.unwrap().unwrap().last_used_at, 160);

        // A re-authentication moves the last sign-in and keeps the login time.
        let s1 = store.get("s1").await.unwrap().unwrap();
        assert_eq!((s1.authenticated_at, s1.amr.len()), (100, 0));
        let amr = ["pwd".to_owned()];
        assert!(store.renew("s1", 170, &amr).await.unwrap());
        let s1 = store.get("s1").await.unwrap().unwrap();
        assert_eq!((s1.created_at, s1.authenticated_at), (100, 170));
        assert_eq!(s1.amr, ["pwd"]);
        assert!(!store.renew("nope", 170, &amr).await.unwrap());
        store.add_refresh("h0", "s1", 900).await.unwrap();
        assert!(store.renew("s1", 180, &amr).await.unwrap());
        assert_eq!(
            store.use_refresh("h0", 190).await.unwrap(),
            RefreshUse::Reused {
                session: "s1".into()
            }
        );
        assert_eq!(
            store
                .get("s2")
                .await
                .unwrap()
                .unwrap()
                .user_agent
                .as_deref(),
            Some("agent")
        );

        // Refresh tokens: single use, then reuse is told apart from unknown.
        store.add_refresh("h1", "s1", 900).await.unwrap();
        assert_eq!(
            store.refresh_session("h1").await.unwrap().as_deref(),
            Some("s1")
        );
        assert_eq!(
            store.use_refresh("h1", 500).await.unwrap(),
            RefreshUse::Fresh {
                session: "s1".into()
            }
        );
        assert_eq!(
            store.use_refresh("h1", 501).await.unwrap(),
            RefreshUse::Reused {
                session: "s1".into()
            }
        );
        assert_eq!(
            store.use_refresh("nope", 500).await.unwrap(),
            RefreshUse::Unknown
        );
        store.add_refresh("h2", "s1", 600).await.unwrap();
        assert_eq!(
            store.use_refresh("h2", 600).await.unwrap(),
            RefreshUse::Unknown
        );

        // Ends: one, then every one of a user with a cut-off that only grows.
        assert!(store.end("s1", 700).await.unwrap());
        assert!(!store.end("s1", 701).await.unwrap());
        assert_eq!(store.get("s1").await.unwrap().unwrap().ended_at, Some(700));
        assert_eq!(store.cutoff("u1").await.unwrap(), None);
        store.end_user("u1", 800).await.unwrap();
        store.end_user("u1", 750).await.unwrap();
        assert_eq!(store.cutoff("u1").await.unwrap(), Some(800));
        assert!(store.list("u1", 500).await.unwrap().is_empty());
        assert_eq!(ids(store.list("u2", 500).await.unwrap()), ["s3"]);

        // Purge forgets what expired, never a session without an end, nor an
        // ended one whose tokens may still be unexpired.
        store.purge(900).await.unwrap();
        assert_eq!(store.get("s1").await.unwrap().unwrap().ended_at, Some(700));
        store.purge(2000).await.unwrap();
        assert!(store.get("s1").await.unwrap().is_none());
        assert!(store.get("s3").await.unwrap().is_none());
        assert!(store.get("s2").await.unwrap().is_some());
        assert_eq!(store.refresh_session("h1").await.unwrap(), None);
    }

    #[tokio::test]
    async fn memory() {
        check(&super::MemorySessions::default()).await;
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite() {
        let store = crate::SqliteStore::<crate::User>::in_memory()
            .await
            .unwrap();
        check(&super::sql::SqliteSessions(store.pool().clone())).await;
    }
}
