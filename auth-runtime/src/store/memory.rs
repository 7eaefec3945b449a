//! An in-memory store for tests and examples. Not durable.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::AccessTokenStore;
use super::access_tokens::MemoryAccessTokens;
use super::api_keys::MemoryApiKeys;
use super::oauth_accounts::MemoryOAuthAccounts;
use super::passkeys::MemoryPasskeys;
use super::two_factor::{MemoryTwoFactor, TwoFactorStore};
use super::{Counters, MemoryCounters};
use super::{MemorySessions, SessionStore};
use super::{StoreError, UserStore};
use crate::model::{IdKind, UserId, UserModel};
use crate::user::User;

/// Users in a map behind a mutex; the unique index (e-mails and logins) is kept in
/// the same critical section, so uniqueness holds under concurrency. Integer ids
/// count up from 1.
pub struct MemoryStore<U: UserModel = User> {
    state: Mutex<State<U>>,
    counters: Arc<MemoryCounters>,
    sessions: Arc<MemorySessions>,
    access_tokens: Arc<MemoryAccessTokens>,
    oauth_accounts: Arc<MemoryOAuthAccounts>,
    two_factor: Arc<MemoryTwoFactor>,
    audit: Arc<super::MemoryAudit>,
    passkeys: Arc<MemoryPasskeys>,
    bans: Arc<super::MemoryBans>,
    api_keys: Arc<MemoryApiKeys>,
}

struct State<U: UserModel> {
    users: HashMap<U::Id, U>,
    /// `(column, folded value)` to the user holding it.
    unique: HashMap<(&'static str, String), U::Id>,
    last_id: i64,
}

impl<U: UserModel> Default for MemoryStore<U> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                users: HashMap::new(),
                unique: HashMap::new(),
                last_id: 0,
            }),
            counters: Arc::default(),
            sessions: Arc::default(),
            access_tokens: Arc::default(),
            oauth_accounts: Arc::default(),
            two_factor: Arc::default(),
            audit: Arc::default(),
            passkeys: Arc::default(),
            bans: Arc::default(),
            api_keys: Arc::default(),
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
        // mutation below happens after all checks), so the data is still
        // consistent: keep serving.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn find(&self, column: &'static str, value: &str) -> Option<U> {
        let state = self.lock();
        state
            .unique
            .get(&(column, fold(value)))
            .and_then(|id| state.users.get(id))
            .cloned()
    }
}

/// ASCII case folding, as SQLite's `lower()` and FastAPI Users' lookups do, so
/// every store agrees on which values are the same.
fn fold(value: &str) -> String {
    value.to_ascii_lowercase()
}

/// The unique keys of a user: its e-mail and its login.
fn keys<U: UserModel>(user: &U) -> Vec<(&'static str, String)> {
    let mut keys: Vec<_> = user
        .email()
        .map(|e| ("email", fold(e)))
        .into_iter()
        .collect();
    if U::LOGIN != "email" {
        keys.push((U::LOGIN, fold(user.login())));
    }
    keys
}

/// Stores `user` (new, or over its existing record), keeping the unique index in
/// step; [`StoreError::Duplicate`] if another user holds one of its keys.
fn write<U: UserModel>(state: &mut State<U>, user: U) -> Result<U, StoreError> {
    let new_keys = keys(&user);
    if new_keys.iter().any(|key| {
        state
            .unique
            .get(key)
            .is_some_and(|holder| holder != user.id())
    }) {
        return Err(StoreError::Duplicate);
    }
    if let Some(old) = state.users.get(user.id()) {
        for key in keys(old) {
            state.unique.remove(&key);
        }
    }
    for key in new_keys {
        state.unique.insert(key, user.id().clone());
    }
    state.users.insert(user.id().clone(), user.clone());
    Ok(user)
}

#[async_trait]
impl<U: UserModel> UserStore<U> for MemoryStore<U> {
    async fn get(&self, id: &U::Id) -> Result<Option<U>, StoreError> {
        Ok(self.lock().users.get(id).cloned())
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<U>, StoreError> {
        Ok(self.find("email", email))
    }

    async fn get_by_login(&self, login: &str) -> Result<Option<U>, StoreError> {
        Ok(self.find(U::LOGIN, login))
    }

    async fn create(&self, mut user: U) -> Result<U, StoreError> {
        let mut state = self.lock();
        if U::Id::KIND == IdKind::Integer {
            // Checked first, so a refused user does not use up an id.
            if keys(&user).iter().any(|key| state.unique.contains_key(key)) {
                return Err(StoreError::Duplicate);
            }
            state.last_id += 1;
            let id = U::Id::from_value(crate::model::FieldValue::Int(state.last_id))
                .ok_or_else(|| StoreError::Database("integer id out of range".into()))?;
            *user.account_mut().id = id;
        }
        if state.users.contains_key(user.id()) {
            return Err(StoreError::Database("duplicate id".into()));
        }
        write(&mut state, user)
    }

    async fn update(&self, user: U) -> Result<U, StoreError> {
        let mut state = self.lock();
        if !state.users.contains_key(user.id()) {
            return Err(StoreError::NotFound);
        }
        write(&mut state, user)
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

    async fn list(
        &self,
        filter: &super::UserFilter,
        after: Option<&U::Id>,
        limit: usize,
    ) -> Result<Vec<U>, StoreError> {
        let after = after.map(UserId::to_value);
        let state = self.lock();
        let mut found: Vec<(crate::model::FieldValue, &U)> = state
            .users
            .values()
            .filter(|user| {
                filter.email_prefix.as_ref().is_none_or(|prefix| {
                    user.email()
                        .is_some_and(|email| email.to_lowercase().starts_with(prefix.as_str()))
                }) && filter.is_active.is_none_or(|want| user.is_active() == want)
                    && filter
                        .is_verified
                        .is_none_or(|want| user.is_verified() == want)
                    && filter
                        .is_superuser
                        .is_none_or(|want| user.is_superuser() == want)
                    && filter.role.as_ref().is_none_or(|role| user.has_role(role))
            })
            .map(|user| (user.id().to_value(), user))
            .filter(|(id, _)| {
                after
                    .as_ref()
                    .is_none_or(|after| super::id_order(id, after).is_gt())
            })
            .collect();
        found.sort_by(|(a, _), (b, _)| super::id_order(a, b));
        Ok(found
            .into_iter()
            .take(limit)
            .map(|(_, user)| user.clone())
            .collect())
    }

    async fn delete(&self, id: &U::Id) -> Result<(), StoreError> {
        let mut state = self.lock();
        let user = state.users.remove(id).ok_or(StoreError::NotFound)?;
        for key in keys(&user) {
            state.unique.remove(&key);
        }
        drop(state);
        self.access_tokens.delete_user(&id.to_string());
        self.oauth_accounts.delete_user(&id.to_string());
        self.passkeys.delete_user(&id.to_string());
        self.api_keys.delete_user(&id.to_string());
        Ok(())
    }

    fn counters(&self) -> Option<Arc<dyn Counters>> {
        Some(self.counters.clone())
    }

    fn sessions(&self) -> Option<Arc<dyn SessionStore>> {
        Some(self.sessions.clone())
    }

    fn access_tokens(&self) -> Option<Arc<dyn AccessTokenStore>> {
        Some(self.access_tokens.clone())
    }

    fn oauth_accounts(&self) -> Option<Arc<dyn super::OAuthAccountStore>> {
        Some(self.oauth_accounts.clone())
    }

    fn audit(&self) -> Option<Arc<dyn super::AuditStore>> {
        Some(self.audit.clone())
    }

    fn two_factor(&self) -> Option<Arc<dyn TwoFactorStore>> {
        Some(self.two_factor.clone())
    }

    fn passkeys(&self) -> Option<Arc<dyn super::PasskeyStore>> {
        Some(self.passkeys.clone())
    }

    fn bans(&self) -> Option<Arc<dyn super::BanStore>> {
        Some(self.bans.clone())
    }

    fn api_keys(&self) -> Option<Arc<dyn super::ApiKeyStore>> {
        Some(self.api_keys.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn contract() {
        super::super::contract::check(&MemoryStore::<User>::new(), |_| ()).await;
    }
}
