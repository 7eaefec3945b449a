//! Two-factor state in memory: for the memory store, and for a custom store that
//! keeps none.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{MfaChallenge, TwoFactorRecord, TwoFactorStore};
use crate::store::StoreError;

/// Records, recovery codes and challenges in maps behind one mutex: each method is
/// one critical section, so each is atomic as the SQL stores' statements are.
///
/// ```
/// # tokio_test_block_on(async {
/// use warden_runtime::store::{MemoryTwoFactor, TwoFactorStore};
/// let store = MemoryTwoFactor::new();
/// store.set_pending("user-1", "v1.kid.sealed").await?;
/// assert!(store.confirm("user-1", "v1.kid.sealed", 10, 300, &["hash".into()]).await?);
/// assert!(store.advance_step("user-1", 11).await?);
/// assert!(!store.advance_step("user-1", 11).await?, "a step is accepted once");
/// assert!(store.use_recovery_code("user-1", "hash").await?);
/// assert!(!store.use_recovery_code("user-1", "hash").await?, "a code is used once");
/// # Ok::<(), warden_runtime::StoreError>(()) });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Default)]
pub struct MemoryTwoFactor {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    records: HashMap<String, TwoFactorRecord>,
    /// User id to its codes' lookup hashes.
    codes: HashMap<String, HashSet<String>>,
    /// Token hash to challenge.
    challenges: HashMap<String, MfaChallenge>,
}

impl MemoryTwoFactor {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every mutation below happens after its checks: a panic elsewhere cannot
        // leave the maps inconsistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl TwoFactorStore for MemoryTwoFactor {
    async fn get(&self, user_id: &str) -> Result<Option<TwoFactorRecord>, StoreError> {
        Ok(self.lock().records.get(user_id).cloned())
    }

    async fn set_pending(&self, user_id: &str, sealed: &str) -> Result<(), StoreError> {
        self.lock()
            .records
            .entry(user_id.to_owned())
            .or_insert_with(|| TwoFactorRecord {
                user_id: user_id.to_owned(),
                secret: None,
                pending: None,
                last_step: None,
                enabled_at: None,
                devices_trusted_after: 0,
            })
            .pending = Some(sealed.to_owned());
        Ok(())
    }

    async fn confirm(
        &self,
        user_id: &str,
        pending: &str,
        step: i64,
        now: i64,
        codes: &[String],
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let Some(record) = state
            .records
            .get_mut(user_id)
            .filter(|record| record.pending.as_deref() == Some(pending))
        else {
            return Ok(false);
        };
        record.secret = record.pending.take();
        record.last_step = Some(step);
        record.enabled_at = Some(now);
        record.devices_trusted_after = record.devices_trusted_after.max(now);
        state
            .codes
            .insert(user_id.to_owned(), codes.iter().cloned().collect());
        Ok(true)
    }

    async fn advance_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        let mut state = self.lock();
        match state.records.get_mut(user_id) {
            Some(record)
                if record.secret.is_some() && record.last_step.is_none_or(|last| last < step) =>
            {
                record.last_step = Some(step);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        codes: &[String],
    ) -> Result<(), StoreError> {
        self.lock()
            .codes
            .insert(user_id.to_owned(), codes.iter().cloned().collect());
        Ok(())
    }

    async fn use_recovery_code(&self, user_id: &str, code_hash: &str) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .codes
            .get_mut(user_id)
            .is_some_and(|codes| codes.remove(code_hash)))
    }

    async fn recovery_codes_left(&self, user_id: &str) -> Result<usize, StoreError> {
        Ok(self.lock().codes.get(user_id).map_or(0, HashSet::len))
    }

    async fn set_devices_trusted_after(&self, user_id: &str, at: i64) -> Result<(), StoreError> {
        if let Some(record) = self.lock().records.get_mut(user_id) {
            record.devices_trusted_after = record.devices_trusted_after.max(at);
        }
        Ok(())
    }

    async fn disable(&self, user_id: &str) -> Result<bool, StoreError> {
        let mut state = self.lock();
        state.codes.remove(user_id);
        Ok(state
            .records
            .remove(user_id)
            .is_some_and(|record| record.secret.is_some()))
    }

    async fn forget_user(&self, user_id: &str) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.codes.remove(user_id);
        state.records.remove(user_id);
        state
            .challenges
            .retain(|_, challenge| challenge.user_id != user_id);
        Ok(())
    }

    async fn open_challenge(&self, challenge: &MfaChallenge) -> Result<(), StoreError> {
        self.lock()
            .challenges
            .insert(challenge.token_hash.clone(), challenge.clone());
        Ok(())
    }

    async fn try_challenge(
        &self,
        token_hash: &str,
        now: i64,
        max_tries: u32,
    ) -> Result<Option<MfaChallenge>, StoreError> {
        let mut state = self.lock();
        Ok(match state.challenges.get_mut(token_hash) {
            Some(challenge) if challenge.expires_at > now && challenge.tries < max_tries => {
                challenge.tries += 1;
                Some(challenge.clone())
            }
            _ => None,
        })
    }

    async fn take_challenge(&self, token_hash: &str) -> Result<bool, StoreError> {
        Ok(self.lock().challenges.remove(token_hash).is_some())
    }

    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let before = state.challenges.len();
        state
            .challenges
            .retain(|_, challenge| challenge.expires_at > now);
        Ok(u64::try_from(before - state.challenges.len()).unwrap_or(u64::MAX))
    }
}
