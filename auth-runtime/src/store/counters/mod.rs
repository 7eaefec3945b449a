//! The throttle's counters as stored: the [`Counters`] trait, and its
//! implementations in memory and in the store's database (table `warden_throttle`),
//! where every instance sees the same counts.

mod memory;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod sql;

use async_trait::async_trait;

pub use memory::MemoryCounters;

use super::StoreError;

/// Counters in fixed windows, kept where every instance sees them.
#[async_trait]
pub trait Counters: Send + Sync + 'static {
    /// Adds one to `key` in the window that starts at `window` (Unix seconds),
    /// starting afresh if its count is of an earlier window; the new count.
    async fn hit(&self, key: &str, window: i64) -> Result<u64, StoreError>;
    /// The count of `key` in the window that starts at `window`.
    async fn count(&self, key: &str, window: i64) -> Result<u64, StoreError>;
    /// Forgets `key`.
    async fn clear(&self, key: &str) -> Result<(), StoreError>;
    /// Forgets every count of a window that started before `window`.
    async fn purge(&self, window: i64) -> Result<(), StoreError>;
    /// How many keys are kept (for monitoring: the throttle keeps it bounded).
    async fn key_count(&self) -> Result<u64, StoreError>;
}
