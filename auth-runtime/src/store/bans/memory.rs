//! Bans in memory: for the memory store, and for a custom store that keeps none.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Ban, BanStore};
use crate::store::StoreError;

/// Bans in a map behind a mutex.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use warden_runtime::store::{Ban, BanStore, MemoryBans};
/// let bans = MemoryBans::new();
/// bans.put(&Ban::new("42", 1_000)).await?;
/// assert!(bans.get("42").await?.is_some());
/// assert!(bans.remove("42").await?);
/// assert!(!bans.remove("42").await?);
/// # Ok::<(), warden_runtime::StoreError>(()) }).unwrap();
/// ```
#[derive(Debug, Default)]
pub struct MemoryBans {
    bans: Mutex<HashMap<String, Ban>>,
}

impl MemoryBans {
    /// No bans.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Ban>> {
        // Each method is one insert, read or remove: a panic elsewhere leaves
        // nothing half-done.
        self.bans
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl BanStore for MemoryBans {
    async fn get(&self, user_id: &str) -> Result<Option<Ban>, StoreError> {
        Ok(self.lock().get(user_id).cloned())
    }

    async fn put(&self, ban: &Ban) -> Result<(), StoreError> {
        self.lock().insert(ban.user_id.clone(), ban.clone());
        Ok(())
    }

    async fn remove(&self, user_id: &str) -> Result<bool, StoreError> {
        Ok(self.lock().remove(user_id).is_some())
    }
}
