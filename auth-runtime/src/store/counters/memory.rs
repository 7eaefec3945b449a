//! Counters in process memory: for the memory store, and for stores that keep none
//! of their own (then each instance counts alone).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::Counters;
use crate::store::StoreError;

/// Keys past which a new key first drops the counts of earlier windows, whatever
/// the purge timer has done: the map stays bounded by what one window can hold.
const SWEEP_AT: usize = 10_000;

/// Counters in a map behind a mutex.
#[derive(Debug, Default)]
pub struct MemoryCounters {
    counts: Mutex<HashMap<String, (i64, u64)>>,
}

impl MemoryCounters {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, u64)>> {
        // Every update is one insert: a panic elsewhere leaves the map consistent.
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl Counters for MemoryCounters {
    async fn hit(&self, key: &str, window: i64) -> Result<u64, StoreError> {
        let mut counts = self.lock();
        if counts.len() >= SWEEP_AT && !counts.contains_key(key) {
            counts.retain(|_, (start, _)| *start >= window);
        }
        let entry = counts.entry(key.to_owned()).or_insert((window, 0));
        if window > entry.0 {
            *entry = (window, 0);
        }
        entry.1 += 1;
        Ok(entry.1)
    }

    async fn count(&self, key: &str, window: i64) -> Result<u64, StoreError> {
        Ok(self
            .lock()
            .get(key)
            .filter(|(start, _)| *start == window)
            .map_or(0, |(_, count)| *count))
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        self.lock().remove(key);
        Ok(())
    }

    async fn purge(&self, window: i64) -> Result<(), StoreError> {
        self.lock().retain(|_, (start, _)| *start >= window);
        Ok(())
    }

    async fn key_count(&self) -> Result<u64, StoreError> {
        Ok(u64::try_from(self.lock().len()).unwrap_or(u64::MAX))
    }
}
