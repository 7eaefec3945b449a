//! [`Sessions`]: the session store with a cache in front, so that checking a token's
//! session on every request costs a memory lookup. Ends made here drop the entry at
//! once; ends made by other instances arrive through the store's change feed, and
//! while that feed is down, or silent (its pings unheard), the cache is bypassed (as
//! the user cache is while its feed is down).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use moka::sync::Cache;
use tokio::sync::mpsc;

use super::{RefreshUse, Session, SessionStore};
use crate::store::{FEED_SILENT_AFTER, StoreChange, StoreError, token_hash};
use crate::strategy::TokenInfo;

/// A use of a session is written at most this often (seconds): `last_used_at` is
/// to the minute, and a guarded request costs no write.
const TOUCH_EVERY: i64 = 60;
/// Expired sessions and refresh tokens are purged at most this often (seconds).
const PURGE_EVERY: i64 = 3600;
/// Sessions held in memory.
const CAPACITY: u64 = 100_000;
/// Live sessions one user may hold unless the builder says otherwise
/// ([`WardenBuilder::max_sessions_per_user`](crate::WardenBuilder::max_sessions_per_user)).
pub const DEFAULT_MAX_SESSIONS: usize = 100;

/// What the cache knows of a session id.
enum Entry {
    /// No such row: a token naming it is judged by the user's cut-off.
    Absent,
    Present {
        user_id: String,
        created_at: i64,
        authenticated_at: i64,
        amr: Arc<[String]>,
        expires_at: Option<i64>,
        ended: bool,
        touched: AtomicI64,
        actor: Option<Arc<str>>,
    },
}

/// Whether a token's session lets it in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Admission {
    /// Refused: its session ended or expired, or the user's tokens were cut off.
    Refused,
    /// The token belongs to this live session.
    Session {
        /// The session id.
        id: String,
        /// The login time.
        created_at: i64,
        /// The last sign-in (the login or a re-authentication).
        authenticated_at: i64,
        /// How the user proved who they are then (RFC 8176).
        amr: Arc<[String]>,
        /// The session's end, if it has one.
        expires_at: Option<i64>,
        /// The superuser acting as the user (an impersonation session), by id.
        actor: Option<Arc<str>>,
    },
    /// A token without a session (FastAPI Users', an earlier warden's), issued
    /// after the user's last cut-off.
    Sessionless,
}

/// The sessions of a warden: its [`SessionStore`] behind a cache. The warden's is
/// `warden.manager().sessions()`; ending sessions from the application's code
/// ("log out everywhere" on a route of its own) is
/// [`UserManager::end_sessions`](crate::UserManager::end_sessions).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use warden_runtime::TokenInfo;
/// use warden_runtime::session::{Admission, MemorySessions, Session, Sessions};
/// let sessions = Sessions::new(Arc::new(MemorySessions::default()), false);
/// let now = std::time::SystemTime::now()
///     .duration_since(std::time::UNIX_EPOCH)
///     .unwrap()
///     .as_secs() as i64;
/// sessions.open(Session::new("s1", "user-1", "jwt", now, Some(now + 3600))).await?;
/// let token = TokenInfo::new("user-1").in_session("s1");
/// assert!(matches!(sessions.admit(&token).await?, Admission::Session { .. }));
/// sessions.end("s1").await?;
/// assert_eq!(sessions.admit(&token).await?, Admission::Refused);
/// # Ok::<(), warden_runtime::StoreError>(()) }).unwrap();
/// ```
pub struct Sessions {
    store: Arc<dyn SessionStore>,
    clock: crate::clock::Clock,
    audit: crate::audit::Audit,
    state: Arc<State>,
    purged: AtomicI64,
    cap: usize,
}

struct State {
    entries: Cache<String, Arc<Entry>>,
    cutoffs: Cache<String, Option<i64>>,
    /// Bumped by every invalidation: a read that raced one does not fill the cache.
    generation: AtomicU64,
    /// Whether cached entries may be served.
    trusted: AtomicBool,
    /// Whether a change feed is followed: the cache is then served only while it
    /// is heard from.
    watched: bool,
    /// When the feed was last heard from (the clock's seconds).
    heard_at: AtomicI64,
    /// Whether the feed's silence was noticed (and logged) since it was last heard.
    silent: AtomicBool,
    /// The clock sessions are measured on (the feed's silence too).
    clock: std::sync::RwLock<crate::clock::Clock>,
}

impl State {
    fn forget(&self, key: &str) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        match key.strip_prefix("user:") {
            Some(user_id) => {
                self.cutoffs.invalidate(user_id);
                let user_id = user_id.to_owned();
                let stale: Vec<Arc<String>> = self
                    .entries
                    .iter()
                    .filter(|(_, entry)| {
                        matches!(&**entry, Entry::Present { user_id: owner, .. } if *owner == user_id)
                    })
                    .map(|(id, _)| id)
                    .collect();
                for id in stale {
                    self.entries.invalidate(id.as_str());
                }
            }
            None => self.entries.invalidate(key),
        }
    }

    fn now(&self) -> i64 {
        match self.clock.read() {
            Ok(clock) => clock.now(),
            Err(poisoned) => poisoned.into_inner().now(),
        }
    }

    /// The feed spoke. After a silence the cache starts afresh: ends announced
    /// meanwhile were lost (the bump of the generation also keeps reads begun
    /// during the silence out of the cache).
    fn heard(&self) {
        if self.silent.swap(false, Ordering::SeqCst) || !self.heard_lately() {
            self.forget_all();
            tracing::info!("the session change feed is heard again; the cache is back on");
        }
        self.heard_at.store(self.now(), Ordering::SeqCst);
    }

    /// Whether the feed (if any) was heard from within [`FEED_SILENT_AFTER`]. A
    /// LISTEN connection can die without an error, and then nothing says so but
    /// the silence of its pings: served meanwhile, the cache would keep admitting
    /// sessions other instances ended.
    fn heard_lately(&self) -> bool {
        if !self.watched {
            return true;
        }
        let silent_for = self
            .now()
            .saturating_sub(self.heard_at.load(Ordering::SeqCst));
        let lately = silent_for < FEED_SILENT_AFTER.as_secs() as i64;
        if !lately && !self.silent.swap(true, Ordering::SeqCst) {
            tracing::warn!(
                silent_for,
                "the session change feed went silent; sessions are read from the database until it is heard again"
            );
        }
        lately
    }

    fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate_all();
        self.cutoffs.invalidate_all();
    }
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

/// Follows another instance's ends for as long as the sessions live.
///
/// Every message is a sign of life (the feed's pings are [`StoreChange::Alive`]):
/// [`State::heard_lately`] bypasses the cache once none came for
/// [`FEED_SILENT_AFTER`], and a message after such a silence empties the cache,
/// since whatever was announced meanwhile is unknown.
async fn follow(state: Weak<State>, mut changes: mpsc::UnboundedReceiver<StoreChange>) {
    while let Some(change) = changes.recv().await {
        let Some(state) = state.upgrade() else { return };
        state.heard();
        match change {
            StoreChange::Session(key) => state.forget(&key),
            StoreChange::Lost => {
                state.trusted.store(false, Ordering::SeqCst);
                state.forget_all();
            }
            StoreChange::Restored => {
                state.forget_all();
                state.trusted.store(true, Ordering::SeqCst);
            }
            _ => {}
        }
    }
    if let Some(state) = state.upgrade() {
        state.trusted.store(false, Ordering::SeqCst);
    }
}

/// A new random session id (128 bits, base64url).
pub(crate) fn random_id() -> Result<String, StoreError> {
    crate::random::urlsafe::<16>().map_err(StoreError::Database)
}

impl Sessions {
    /// Sessions kept in `store`. With `shared` (other instances write to it too)
    /// the cache is served only while the store's change feed works; without a
    /// feed, not at all.
    pub fn new(store: Arc<dyn SessionStore>, shared: bool) -> Self {
        let changes = if shared {
            tokio::runtime::Handle::try_current()
                .ok()
                .and_then(|_| store.changes())
        } else {
            None
        };
        if shared && changes.is_none() {
            tracing::warn!(
                "the session store is shared but its changes cannot be followed here: every token's session is read from the database"
            );
        }
        // With a feed, entries live until it says otherwise; without one, the time
        // to live bounds how long an end written behind this process's back (another
        // process on one SQLite file) goes unseen, as the user cache's does.
        let ttl = Duration::from_secs(if changes.is_some() { 600 } else { 5 });
        let state = Arc::new(State {
            entries: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .build(),
            cutoffs: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .build(),
            generation: AtomicU64::new(0),
            trusted: AtomicBool::new(!shared),
            watched: changes.is_some(),
            heard_at: AtomicI64::new(crate::clock::Clock::system().now()),
            silent: AtomicBool::new(false),
            clock: std::sync::RwLock::new(crate::clock::Clock::system()),
        });
        if let Some(changes) = changes {
            tokio::spawn(follow(Arc::downgrade(&state), changes));
        }
        Self {
            store,
            clock: crate::clock::Clock::system(),
            audit: crate::audit::Audit::default(),
            state,
            purged: AtomicI64::new(i64::MIN),
            cap: DEFAULT_MAX_SESSIONS,
        }
    }

    /// Tells `audit` of refresh-token reuse from now on.
    pub(crate) fn set_audit(&mut self, audit: crate::audit::Audit) {
        self.audit = audit;
    }

    /// Lets each user hold at most `cap` live sessions from now on.
    pub(crate) fn set_cap(&mut self, cap: usize) {
        self.cap = cap.max(1);
    }

    /// Measures time on `clock` from now on.
    pub(crate) fn set_clock(&mut self, clock: crate::clock::Clock) {
        self.state.heard_at.store(clock.now(), Ordering::SeqCst);
        match self.state.clock.write() {
            Ok(mut shared) => *shared = clock.clone(),
            Err(poisoned) => *poisoned.into_inner() = clock.clone(),
        }
        self.clock = clock;
    }

    /// The clock sessions are measured on.
    pub fn clock(&self) -> &crate::clock::Clock {
        &self.clock
    }

    /// The store behind the cache.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    fn trusted(&self) -> bool {
        self.state.trusted.load(Ordering::SeqCst) && self.state.heard_lately()
    }

    async fn entry(&self, id: &str) -> Result<Arc<Entry>, StoreError> {
        if self.trusted()
            && let Some(entry) = self.state.entries.get(id)
        {
            return Ok(entry);
        }
        let generation = self.state.generation.load(Ordering::SeqCst);
        let entry = Arc::new(match self.store.get(id).await? {
            None => Entry::Absent,
            Some(session) => Entry::Present {
                user_id: session.user_id,
                created_at: session.created_at,
                authenticated_at: session.authenticated_at,
                amr: session.amr.into(),
                expires_at: session.expires_at,
                ended: session.ended_at.is_some(),
                touched: AtomicI64::new(session.last_used_at),
                actor: session.actor.map(Arc::from),
            },
        });
        if self.trusted() && self.state.generation.load(Ordering::SeqCst) == generation {
            self.state.entries.insert(id.to_owned(), Arc::clone(&entry));
        }
        Ok(entry)
    }

    /// The time up to which the user's session-less tokens (and device cookies) are
    /// refused: the last password change, reset or "log out everywhere".
    pub(crate) async fn cutoff(&self, user_id: &str) -> Result<Option<i64>, StoreError> {
        if self.trusted()
            && let Some(cutoff) = self.state.cutoffs.get(user_id)
        {
            return Ok(cutoff);
        }
        let generation = self.state.generation.load(Ordering::SeqCst);
        let cutoff = self.store.cutoff(user_id).await?;
        if self.trusted() && self.state.generation.load(Ordering::SeqCst) == generation {
            self.state.cutoffs.insert(user_id.to_owned(), cutoff);
        }
        Ok(cutoff)
    }

    /// Whether a token that its strategy accepted is still good: its session lives
    /// and is the subject's, or it names no session and was not issued before the
    /// subject's last cut-off. A token with neither a session nor an issue time is
    /// its strategy's alone to end (its storage is its state). A token that names
    /// its session itself (a JWT's `sid`) is refused when that session is not
    /// found, and a token without an issue time of its own (FastAPI Users' JWTs)
    /// by any cut-off of its user.
    pub async fn admit(&self, info: &TokenInfo) -> Result<Admission, StoreError> {
        let now = self.clock.now();
        if let Some(id) = &info.session {
            match &*self.entry(id).await? {
                Entry::Present {
                    user_id,
                    created_at,
                    authenticated_at,
                    amr,
                    expires_at,
                    ended,
                    touched,
                    actor,
                } => {
                    let live = !*ended && expires_at.is_none_or(|end| now < end);
                    if !live || *user_id != info.subject {
                        return Ok(Admission::Refused);
                    }
                    let last = touched.load(Ordering::Relaxed);
                    if now.saturating_sub(last) >= TOUCH_EVERY
                        && touched
                            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                            .is_ok()
                    {
                        let store = Arc::clone(&self.store);
                        let id = id.clone();
                        tokio::spawn(async move {
                            if let Err(error) = store.touch(&id, now).await {
                                tracing::debug!(%error, "could not record a session's use");
                            }
                        });
                    }
                    return Ok(Admission::Session {
                        id: id.clone(),
                        created_at: *created_at,
                        authenticated_at: *authenticated_at,
                        amr: Arc::clone(amr),
                        expires_at: *expires_at,
                        actor: actor.clone(),
                    });
                }
                // A session the token names itself and that is not found: its
                // row was purged or lost (a restored backup), so the session may
                // have ended; admitting the token would undo that end (fail-open).
                Entry::Absent if info.session_required => return Ok(Admission::Refused),
                Entry::Absent => {}
            }
        }
        if info.issued_at.is_none() && !info.undated {
            return Ok(Admission::Sessionless);
        }
        Ok(match self.cutoff(&info.subject).await? {
            // An undated token cannot show it was issued after the cut-off.
            Some(_) if info.undated => Admission::Refused,
            Some(cutoff) if info.issued_at.is_some_and(|issued| issued <= cutoff) => {
                Admission::Refused
            }
            _ => Admission::Sessionless,
        })
    }

    /// Opens a session (now), ends the user's oldest live sessions beyond the cap,
    /// and purges expired ones once an hour.
    pub async fn open(&self, session: Session) -> Result<Session, StoreError> {
        self.store.create(&session).await?;
        self.state.forget(&session.id);
        let now = self.clock.now();
        // A cap on live sessions per user (ASVS 7.1.2's "number of concurrent
        // sessions"): a script that logs in in a loop cannot grow the table
        // without bound, and the oldest login, the likeliest forgotten, goes first.
        let others: Vec<Session> = self
            .store
            .list(&session.user_id, now)
            .await?
            .into_iter()
            .filter(|other| other.id != session.id)
            .collect();
        // Newest first: beside the new one, the cap's newest others stay.
        let keep = self.cap.saturating_sub(1);
        if others.len() > keep {
            for old in &others[keep..] {
                self.end(&old.id).await?;
            }
            tracing::info!(
                user = %session.user_id,
                ended = others.len() - keep,
                "a login past the per-user session cap ended the oldest sessions"
            );
        }
        let last = self.purged.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= PURGE_EVERY
            && self
                .purged
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            && let Err(error) = self.store.purge(now).await
        {
            tracing::warn!(%error, "could not purge expired sessions");
        }
        Ok(session)
    }

    /// Forgets sessions and refresh tokens that expired (now): a session ended
    /// before its end is kept until then, as its tokens may live until then.
    pub async fn purge(&self) -> Result<(), StoreError> {
        let now = self.clock.now();
        self.purged.store(now, Ordering::Relaxed);
        self.store.purge(now).await
    }

    /// Records a re-authentication of a live session, proved by `amr`: later
    /// refreshes carry the new sign-in time. Whether the session was live.
    pub async fn renew(&self, id: &str, amr: &[String]) -> Result<bool, StoreError> {
        let renewed = self.store.renew(id, self.clock.now(), amr).await?;
        self.state.forget(id);
        Ok(renewed)
    }

    /// Ends one session; whether it was live.
    pub async fn end(&self, id: &str) -> Result<bool, StoreError> {
        let ended = self.store.end(id, self.clock.now()).await?;
        self.state.forget(id);
        Ok(ended)
    }

    /// Ends every session of the user, and their session-less tokens.
    pub async fn end_user(&self, user_id: &str) -> Result<(), StoreError> {
        self.store.end_user(user_id, self.clock.now()).await?;
        self.state.forget(&format!("user:{user_id}"));
        Ok(())
    }

    /// The user's live sessions, newest first.
    pub async fn list(&self, user_id: &str) -> Result<Vec<Session>, StoreError> {
        self.store.list(user_id, self.clock.now()).await
    }

    /// A new refresh token for a session: 256 random bits, stored as a hash only.
    pub async fn issue_refresh(
        &self,
        session: &str,
        expires_at: i64,
    ) -> Result<String, StoreError> {
        let token = crate::random::urlsafe::<32>().map_err(StoreError::Database)?;
        self.store
            .add_refresh(&token_hash(&token), session, expires_at)
            .await?;
        Ok(token)
    }

    /// Uses a refresh token. A token used before ends its whole session (its
    /// family: every refresh and access token of that login) and is logged
    /// (RFC 9700 §4.14.2): either the client or an attacker holds a stolen copy.
    pub async fn redeem_refresh(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let now = self.clock.now();
        let hash = token_hash(token);
        let Some(owner) = self.store.refresh_session(&hash).await? else {
            return Ok(None);
        };
        // The session as it is before the token is spent: of concurrent uses, the
        // losers end it only after the winner spent the token, so the winner is
        // answered (and its new tokens then die with the session).
        let session = self.store.get(&owner).await?;
        match self.store.use_refresh(&hash, now).await? {
            RefreshUse::Fresh { .. } => Ok(session.filter(|session| session.is_live(now))),
            RefreshUse::Reused { session: id } => {
                tracing::warn!(
                    session = %id,
                    "a used refresh token was presented again: its session is ended"
                );
                self.end(&id).await?;
                if let Some(record) = session {
                    self.audit
                        .emit(|| crate::audit::SecurityEvent::RefreshTokenReused {
                            user_id: record.user_id,
                            session: id,
                        });
                }
                Ok(None)
            }
            RefreshUse::Unknown => Ok(None),
        }
    }
}

#[cfg(all(test, feature = "test-clock"))]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::session::MemorySessions;

    /// Sessions in memory with a change feed the test drives, standing for
    /// PostgreSQL's: what it ends directly is what another instance ends.
    struct Fed {
        inner: Arc<MemorySessions>,
        feed: Mutex<Option<mpsc::UnboundedReceiver<StoreChange>>>,
    }

    #[async_trait]
    impl SessionStore for Fed {
        async fn create(&self, session: &Session) -> Result<(), StoreError> {
            self.inner.create(session).await
        }
        async fn get(&self, id: &str) -> Result<Option<Session>, StoreError> {
            self.inner.get(id).await
        }
        async fn list(&self, user_id: &str, now: i64) -> Result<Vec<Session>, StoreError> {
            self.inner.list(user_id, now).await
        }
        async fn touch(&self, id: &str, at: i64) -> Result<(), StoreError> {
            self.inner.touch(id, at).await
        }
        async fn renew(&self, id: &str, at: i64, amr: &[String]) -> Result<bool, StoreError> {
            self.inner.renew(id, at, amr).await
        }
        async fn end(&self, id: &str, at: i64) -> Result<bool, StoreError> {
            self.inner.end(id, at).await
        }
        async fn end_user(&self, user_id: &str, at: i64) -> Result<(), StoreError> {
            self.inner.end_user(user_id, at).await
        }
        async fn cutoff(&self, user_id: &str) -> Result<Option<i64>, StoreError> {
            self.inner.cutoff(user_id).await
        }
        async fn add_refresh(
            &self,
            hash: &str,
            session: &str,
            expires_at: i64,
        ) -> Result<(), StoreError> {
            self.inner.add_refresh(hash, session, expires_at).await
        }
        async fn refresh_session(&self, hash: &str) -> Result<Option<String>, StoreError> {
            self.inner.refresh_session(hash).await
        }
        async fn use_refresh(&self, hash: &str, at: i64) -> Result<RefreshUse, StoreError> {
            self.inner.use_refresh(hash, at).await
        }
        async fn purge(&self, before: i64) -> Result<(), StoreError> {
            self.inner.purge(before).await
        }
        fn changes(&self) -> Option<mpsc::UnboundedReceiver<StoreChange>> {
            self.feed.lock().ok()?.take()
        }
    }

    /// Lets the feed's follower run (it runs on this test's thread).
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_feed_gone_silent_without_an_error_stops_the_cache_hiding_ends() {
        let (feed, receiver) = mpsc::unbounded_channel();
        let other_instance = Arc::new(MemorySessions::default());
        let clock = crate::clock::Clock::manual(1_000_000);
        let mut sessions = Sessions::new(
            Arc::new(Fed {
                inner: Arc::clone(&other_instance),
                feed: Mutex::new(Some(receiver)),
            }),
            true,
        );
        sessions.set_clock(clock.clone());
        feed.send(StoreChange::Restored).unwrap();
        settle().await;
        let now = sessions.clock().now();
        for id in ["s1", "s2"] {
            sessions
                .open(Session::new(id, "u1", "jwt", now, Some(now + 86_400)))
                .await
                .unwrap();
        }
        let s1 = TokenInfo::new("u1").in_session("s1");
        assert!(matches!(
            sessions.admit(&s1).await.unwrap(),
            Admission::Session { .. }
        ));

        // Another instance ends the session; its announcement never arrives (the
        // LISTEN connection died without a word), and the feed stays open.
        other_instance.end("s1", now).await.unwrap();
        clock.advance(FEED_SILENT_AFTER.as_secs() as i64 - 1);
        settle().await;
        assert!(
            matches!(
                sessions.admit(&s1).await.unwrap(),
                Admission::Session { .. }
            ),
            "within the deadline the cache is still trusted"
        );
        clock.advance(1);
        settle().await;
        assert_eq!(sessions.admit(&s1).await.unwrap(), Admission::Refused);

        // Pings resume: the cache is trusted again (an end behind its back hides
        // again, until the next silence).
        feed.send(StoreChange::Alive).unwrap();
        settle().await;
        let s2 = TokenInfo::new("u1").in_session("s2");
        assert!(matches!(
            sessions.admit(&s2).await.unwrap(),
            Admission::Session { .. }
        ));
        other_instance.end("s2", now).await.unwrap();
        assert!(matches!(
            sessions.admit(&s2).await.unwrap(),
            Admission::Session { .. }
        ));
    }
}
