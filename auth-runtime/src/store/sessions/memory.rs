//! Sessions in memory: for the memory store, and for a custom store that keeps none.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{RefreshUse, Session, SessionStore};
use crate::store::StoreError;

/// Sessions, refresh tokens and cut-offs in maps behind one mutex.
///
/// ```
/// # tokio_test_block_on(async {
/// use warden_runtime::session::{MemorySessions, Session, SessionStore};
/// let sessions = MemorySessions::default();
/// sessions.create(&Session::new("s1", "user-1", "jwt", 100, Some(200))).await?;
/// assert!(sessions.end("s1", 150).await?);
/// assert!(!sessions.get("s1").await?.unwrap().is_live(160));
/// # Ok::<(), warden_runtime::StoreError>(()) });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Default)]
pub struct MemorySessions {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    sessions: HashMap<String, Session>,
    /// Hash to (session, expiry, used).
    refresh: HashMap<String, (String, i64, bool)>,
    cutoffs: HashMap<String, i64>,
}

impl MemorySessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every mutation below is a single map operation: a panic elsewhere cannot
        // leave the maps inconsistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl SessionStore for MemorySessions {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        self.lock()
            .sessions
            .insert(session.id.clone(), session.clone());
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.lock().sessions.get(id).cloned())
    }

    async fn list(&self, user_id: &str, now: i64) -> Result<Vec<Session>, StoreError> {
        let mut sessions: Vec<Session> = self
            .lock()
            .sessions
            .values()
            .filter(|session| session.user_id == user_id && session.is_live(now))
            .cloned()
            .collect();
        sessions.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        Ok(sessions)
    }

    async fn touch(&self, id: &str, at: i64) -> Result<(), StoreError> {
        if let Some(session) = self.lock().sessions.get_mut(id) {
            session.last_used_at = session.last_used_at.max(at);
        }
        Ok(())
    }

    async fn renew(&self, id: &str, at: i64, amr: &[String]) -> Result<bool, StoreError> {
        let mut state = self.lock();
        match state.sessions.get_mut(id) {
            Some(session) if session.ended_at.is_none() => {
                session.authenticated_at = at;
                session.amr = amr.to_vec();
            }
            _ => return Ok(false),
        }
        for (session, _, used) in state.refresh.values_mut() {
            if session == id {
                *used = true;
            }
        }
        Ok(true)
    }

    async fn end(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let live = match state.sessions.get_mut(id) {
            Some(session) if session.ended_at.is_none() => {
                session.ended_at = Some(at);
                true
            }
            _ => false,
        };
        Ok(live)
    }

    async fn end_user(&self, user_id: &str, at: i64) -> Result<(), StoreError> {
        let mut state = self.lock();
        for session in state.sessions.values_mut() {
            if session.user_id == user_id && session.ended_at.is_none() {
                session.ended_at = Some(at);
            }
        }
        let cutoff = state.cutoffs.entry(user_id.to_owned()).or_insert(at);
        *cutoff = (*cutoff).max(at);
        Ok(())
    }

    async fn cutoff(&self, user_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.lock().cutoffs.get(user_id).copied())
    }

    async fn add_refresh(
        &self,
        hash: &str,
        session: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.lock()
            .refresh
            .insert(hash.to_owned(), (session.to_owned(), expires_at, false));
        Ok(())
    }

    async fn refresh_session(&self, hash: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .refresh
            .get(hash)
            .map(|(session, _, _)| session.clone()))
    }

    async fn use_refresh(&self, hash: &str, at: i64) -> Result<RefreshUse, StoreError> {
        let mut state = self.lock();
        Ok(match state.refresh.get_mut(hash) {
            Some((session, _, used)) if *used => RefreshUse::Reused {
                session: session.clone(),
            },
            Some((session, expires_at, used)) if at < *expires_at => {
                *used = true;
                RefreshUse::Fresh {
                    session: session.clone(),
                }
            }
            _ => RefreshUse::Unknown,
        })
    }

    async fn purge(&self, before: i64) -> Result<(), StoreError> {
        let mut state = self.lock();
        state
            .sessions
            .retain(|_, session| session.expires_at.is_none_or(|end| end >= before));
        state
            .refresh
            .retain(|_, (_, expires_at, _)| *expires_at >= before);
        Ok(())
    }
}
