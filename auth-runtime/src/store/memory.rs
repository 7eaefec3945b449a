//! An in-memory store for tests and examples. Not durable.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use uuid::Uuid;

use super::{StoreError, UserStore};
use crate::user::User;

/// Users in a map behind a mutex; the e-mail index is kept in the same critical
/// section, so uniqueness holds under concurrency.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    users: HashMap<Uuid, User>,
    by_email: HashMap<String, Uuid>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated (every
        // mutation below is a single insert/remove pair after all checks), so the
        // data is still consistent: keep serving.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// ASCII case folding, as SQLite's `lower()` and FastAPI Users' lookups do, so
/// every store agrees on which addresses are the same.
fn key(email: &str) -> String {
    email.to_ascii_lowercase()
}

/// Stores `user` over its existing record, keeping the e-mail index in step.
fn write(state: &mut State, user: User) -> Result<User, StoreError> {
    let Some(old_email) = state.users.get(&user.id).map(|old| key(&old.email)) else {
        return Err(StoreError::NotFound);
    };
    let new_email = key(&user.email);
    if new_email != old_email && state.by_email.contains_key(&new_email) {
        return Err(StoreError::DuplicateEmail);
    }
    state.by_email.remove(&old_email);
    state.by_email.insert(new_email, user.id);
    state.users.insert(user.id, user.clone());
    Ok(user)
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn get(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(&id).cloned())
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let state = self.lock();
        Ok(state
            .by_email
            .get(&key(email))
            .and_then(|id| state.users.get(id))
            .cloned())
    }

    async fn create(&self, user: User) -> Result<User, StoreError> {
        let mut state = self.lock();
        let email = key(&user.email);
        if state.by_email.contains_key(&email) {
            return Err(StoreError::DuplicateEmail);
        }
        if state.users.contains_key(&user.id) {
            return Err(StoreError::Database("duplicate id".into()));
        }
        state.by_email.insert(email, user.id);
        state.users.insert(user.id, user.clone());
        Ok(user)
    }

    async fn update(&self, user: User) -> Result<User, StoreError> {
        write(&mut self.lock(), user)
    }

    async fn replace(&self, expected: &User, new: User) -> Result<User, StoreError> {
        if new.id != expected.id {
            return Err(StoreError::Database(
                "replace cannot change a user's id".into(),
            ));
        }
        // Compared and written under one lock.
        let mut state = self.lock();
        match state.users.get(&expected.id) {
            None => Err(StoreError::NotFound),
            Some(current) if current != expected => Err(StoreError::Conflict),
            Some(_) => write(&mut state, new),
        }
    }

    async fn delete(&self, id: Uuid) -> Result<(), StoreError> {
        let mut state = self.lock();
        let user = state.users.remove(&id).ok_or(StoreError::NotFound)?;
        state.by_email.remove(&key(&user.email));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn contract() {
        super::super::contract::check(&super::MemoryStore::new()).await;
    }
}
