//! The user cache in front of the application's store: guarded requests read a user
//! by id on every request, so that read is served from memory; every write made
//! through warden drops the entry at once, so a deactivation, a demotion or a
//! deletion takes effect on the very next request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use moka::sync::Cache;

use super::{StoreError, UserStore};
use crate::model::UserModel;

/// How many users warden keeps in memory, and for how long.
///
/// Writes through warden invalidate at once; `ttl` only bounds how long a change
/// made *outside* warden (another process writing the database directly) can go
/// unseen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSettings {
    /// Most users held (0 turns the cache off).
    pub capacity: u64,
    /// Longest time one entry is served.
    pub ttl: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            ttl: Duration::from_secs(5),
        }
    }
}

/// A store with a cache of users by id in front of it.
pub(crate) struct CachedStore<U: UserModel> {
    inner: Arc<dyn UserStore<U>>,
    cache: Option<Cache<U::Id, U>>,
    /// Bumped by every invalidation. A read that started before an invalidation does
    /// not fill the cache with what it read: it may be the value just replaced.
    generation: AtomicU64,
}

impl<U: UserModel> CachedStore<U> {
    pub(crate) fn new(inner: Arc<dyn UserStore<U>>, settings: CacheSettings) -> Self {
        let cache = (settings.capacity > 0).then(|| {
            Cache::builder()
                .max_capacity(settings.capacity)
                .time_to_live(settings.ttl)
                .build()
        });
        Self {
            inner,
            cache,
            generation: AtomicU64::new(0),
        }
    }

    fn invalidate(&self, id: &U::Id) {
        if let Some(cache) = &self.cache {
            self.generation.fetch_add(1, Ordering::SeqCst);
            cache.invalidate(id);
        }
    }

    /// Runs a write, then drops the entry whatever the outcome (a conflict means the
    /// cached copy is stale).
    async fn write<T>(
        &self,
        id: &U::Id,
        result: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let result = result.await;
        self.invalidate(id);
        result
    }
}

#[async_trait]
impl<U: UserModel> UserStore<U> for CachedStore<U> {
    async fn get(&self, id: &U::Id) -> Result<Option<U>, StoreError> {
        let Some(cache) = &self.cache else {
            return self.inner.get(id).await;
        };
        if let Some(user) = cache.get(id) {
            return Ok(Some(user));
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let user = self.inner.get(id).await?;
        if let Some(user) = &user
            && self.generation.load(Ordering::SeqCst) == generation
        {
            cache.insert(id.clone(), user.clone());
        }
        Ok(user)
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<U>, StoreError> {
        self.inner.get_by_email(email).await
    }

    async fn create(&self, user: U) -> Result<U, StoreError> {
        self.inner.create(user).await
    }

    async fn update(&self, user: U) -> Result<U, StoreError> {
        let id = user.id().clone();
        self.write(&id, self.inner.update(user)).await
    }

    async fn replace(&self, expected: &U, new: U) -> Result<U, StoreError> {
        self.write(expected.id(), self.inner.replace(expected, new))
            .await
    }

    async fn delete(&self, id: &U::Id) -> Result<(), StoreError> {
        self.write(id, self.inner.delete(id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use crate::store::contract::user;
    use crate::user::User;

    #[tokio::test]
    async fn contract() {
        let store =
            CachedStore::<User>::new(Arc::new(MemoryStore::new()), CacheSettings::default());
        crate::store::contract::check(&store, || ()).await;
    }

    #[tokio::test]
    async fn writes_through_the_cache_are_seen_at_once_and_outside_writes_after_a_conflict() {
        let inner: Arc<MemoryStore<User>> = Arc::new(MemoryStore::new());
        let store = CachedStore::new(inner.clone(), CacheSettings::default());
        let ann = store
            .create(user::<User>("ann@example.com", ()))
            .await
            .unwrap();
        assert!(store.get(&ann.id).await.unwrap().unwrap().is_active);
        let mut inactive = ann.clone();
        inactive.is_active = false;
        store.replace(&ann, inactive.clone()).await.unwrap();
        assert!(!store.get(&ann.id).await.unwrap().unwrap().is_active);

        // A write behind warden's back: the cached copy is stale until a write
        // through warden conflicts on it, which drops it.
        let mut outside = inactive.clone();
        outside.is_superuser = true;
        inner.update(outside).await.unwrap();
        let cached = store.get(&ann.id).await.unwrap().unwrap();
        assert!(!cached.is_superuser);
        let mut verified = cached.clone();
        verified.is_verified = true;
        assert!(matches!(
            store.replace(&cached, verified).await,
            Err(StoreError::Conflict)
        ));
        assert!(store.get(&ann.id).await.unwrap().unwrap().is_superuser);
    }
}
