//! An in-memory store for tests and examples. Not durable.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{StoreError, UserStore};
use crate::model::{IdKind, UserId, UserModel};
use crate::user::User;

/// Users in a map behind a mutex; the e-mail index is kept in the same critical
/// section, so uniqueness holds under concurrency. Integer ids count up from 1.
pub struct MemoryStore<U: UserModel = User> {
    state: Mutex<State<U>>,
}

struct State<U: UserModel> {
    users: HashMap<U::Id, U>,
    by_email: HashMap<String, U::Id>,
    last_id: i64,
}

impl<U: UserModel> Default for MemoryStore<U> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                users: HashMap::new(),
                by_email: HashMap::new(),
                last_id: 0,
            }),
        }
    }
}

impl<U: UserModel> std::fmt::Debug for MemoryStore<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("users", &self.lock().users.len())
            .finish()
    }
}

impl<U: UserModel> MemoryStore<U> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<U>> {
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
fn write<U: UserModel>(state: &mut State<U>, user: U) -> Result<U, StoreError> {
    let Some(old_email) = state.users.get(user.id()).map(|old| key(old.email())) else {
        return Err(StoreError::NotFound);
    };
    let new_email = key(user.email());
    if new_email != old_email && state.by_email.contains_key(&new_email) {
        return Err(StoreError::DuplicateEmail);
    }
    state.by_email.remove(&old_email);
    state.by_email.insert(new_email, user.id().clone());
    state.users.insert(user.id().clone(), user.clone());
    Ok(user)
}

#[async_trait]
impl<U: UserModel> UserStore<U> for MemoryStore<U> {
    async fn get(&self, id: &U::Id) -> Result<Option<U>, StoreError> {
        Ok(self.lock().users.get(id).cloned())
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<U>, StoreError> {
        let state = self.lock();
        Ok(state
            .by_email
            .get(&key(email))
            .and_then(|id| state.users.get(id))
            .cloned())
    }

    async fn create(&self, mut user: U) -> Result<U, StoreError> {
        let mut state = self.lock();
        let email = key(user.email());
        if state.by_email.contains_key(&email) {
            return Err(StoreError::DuplicateEmail);
        }
        if U::Id::KIND == IdKind::Integer {
            state.last_id += 1;
            let id = U::Id::from_value(crate::model::FieldValue::Int(state.last_id))
                .ok_or_else(|| StoreError::Database("integer id out of range".into()))?;
            *user.account_mut().id = id;
        }
        if state.users.contains_key(user.id()) {
            return Err(StoreError::Database("duplicate id".into()));
        }
        state.by_email.insert(email, user.id().clone());
        state.users.insert(user.id().clone(), user.clone());
        Ok(user)
    }

    async fn update(&self, user: U) -> Result<U, StoreError> {
        write(&mut self.lock(), user)
    }

    async fn replace(&self, expected: &U, new: U) -> Result<U, StoreError> {
        if new.id() != expected.id() {
            return Err(StoreError::Database(
                "replace cannot change a user's id".into(),
            ));
        }
        // Compared and written under one lock.
        let mut state = self.lock();
        match state.users.get(expected.id()) {
            None => Err(StoreError::NotFound),
            Some(current) if current != expected => Err(StoreError::Conflict),
            Some(_) => write(&mut state, new),
        }
    }

    async fn delete(&self, id: &U::Id) -> Result<(), StoreError> {
        let mut state = self.lock();
        let user = state.users.remove(id).ok_or(StoreError::NotFound)?;
        state.by_email.remove(&key(user.email()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn contract() {
        super::super::contract::check(&MemoryStore::<User>::new(), || ()).await;
    }
}
