//! The user cache in front of the application's store: guarded requests read a user
//! by id on every request, so that read is served from memory; every write made
//! through warden drops the entry at once, so a deactivation, a demotion or a
//! deletion takes effect on the very next request.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use moka::sync::Cache;
use tokio::sync::mpsc;

use super::{StoreChange, StoreError, UserStore};
use crate::model::{UserId, UserModel};

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
///
/// In front of a shared store (PostgreSQL, several instances) the cache follows the
/// store's change feed: another instance's write drops the entry here too, and while
/// the feed is down the cache is bypassed, so no instance serves a user another one
/// changed.
pub(crate) struct CachedStore<U: UserModel> {
    inner: Arc<dyn UserStore<U>>,
    state: Arc<CacheState<U>>,
}

struct CacheState<U: UserModel> {
    cache: Option<Cache<U::Id, U>>,
    /// Bumped by every invalidation. A read that started before an invalidation does
    /// not fill the cache with what it read: it may be the value just replaced.
    generation: AtomicU64,
    /// Whether cached entries may be served (false while a shared store's change feed
    /// is down, or before it is up).
    trusted: AtomicBool,
}

impl<U: UserModel> CacheState<U> {
    fn invalidate(&self, id: &U::Id) {
        if let Some(cache) = &self.cache {
            self.generation.fetch_add(1, Ordering::SeqCst);
            cache.invalidate(id);
        }
    }

    fn invalidate_all(&self) {
        if let Some(cache) = &self.cache {
            self.generation.fetch_add(1, Ordering::SeqCst);
            cache.invalidate_all();
        }
    }
}

/// Applies a shared store's changes to the cache, for as long as the cache lives.
async fn follow<U: UserModel>(
    state: Weak<CacheState<U>>,
    mut changes: mpsc::UnboundedReceiver<StoreChange>,
) {
    while let Some(change) = changes.recv().await {
        let Some(state) = state.upgrade() else { return };
        match change {
            StoreChange::User(id) => match U::Id::parse(&id) {
                Some(id) => state.invalidate(&id),
                None => state.invalidate_all(),
            },
            StoreChange::Lost => {
                state.trusted.store(false, Ordering::SeqCst);
                state.invalidate_all();
            }
            StoreChange::Restored => {
                // Whatever changed while the feed was down is unknown: start afresh.
                state.invalidate_all();
                state.trusted.store(true, Ordering::SeqCst);
            }
            _ => {}
        }
    }
    // The feed ended: nothing tells this cache about other instances any more.
    if let Some(state) = state.upgrade() {
        state.trusted.store(false, Ordering::SeqCst);
    }
}

impl<U: UserModel> CachedStore<U> {
    pub(crate) fn new(inner: Arc<dyn UserStore<U>>, settings: CacheSettings) -> Self {
        let mut cache = (settings.capacity > 0).then(|| {
            Cache::builder()
                .max_capacity(settings.capacity)
                .time_to_live(settings.ttl)
                .build()
        });
        let mut changes = None;
        if inner.shared() && cache.is_some() {
            changes = inner.changes();
            if changes.is_none() || tokio::runtime::Handle::try_current().is_err() {
                tracing::warn!(
                    "the user store is shared but its changes cannot be followed here: the user cache is off"
                );
                cache = None;
                changes = None;
            }
        }
        let state = Arc::new(CacheState {
            cache,
            generation: AtomicU64::new(0),
            trusted: AtomicBool::new(changes.is_none()),
        });
        if let Some(changes) = changes {
            tokio::spawn(follow(Arc::downgrade(&state), changes));
        }
        Self { inner, state }
    }

    fn invalidate(&self, id: &U::Id) {
        self.state.invalidate(id);
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
        let state = &self.state;
        let Some(cache) = state
            .cache
            .as_ref()
            .filter(|_| state.trusted.load(Ordering::SeqCst))
        else {
            return self.inner.get(id).await;
        };
        if let Some(user) = cache.get(id) {
            return Ok(Some(user));
        }
        let generation = state.generation.load(Ordering::SeqCst);
        let user = self.inner.get(id).await?;
        if let Some(user) = &user
            && state.generation.load(Ordering::SeqCst) == generation
            && state.trusted.load(Ordering::SeqCst)
        {
            cache.insert(id.clone(), user.clone());
        }
        Ok(user)
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<U>, StoreError> {
        self.inner.get_by_email(email).await
    }

    async fn get_by_login(&self, login: &str) -> Result<Option<U>, StoreError> {
        self.inner.get_by_login(login).await
    }

    async fn list(
        &self,
        filter: &super::UserFilter,
        after: Option<&U::Id>,
        limit: usize,
    ) -> Result<Vec<U>, StoreError> {
        self.inner.list(filter, after, limit).await
    }

    fn counters(&self) -> Option<Arc<dyn super::Counters>> {
        self.inner.counters()
    }

    fn sessions(&self) -> Option<Arc<dyn super::SessionStore>> {
        self.inner.sessions()
    }

    fn access_tokens(&self) -> Option<Arc<dyn super::AccessTokenStore>> {
        self.inner.access_tokens()
    }

    fn oauth_accounts(&self) -> Option<std::sync::Arc<dyn super::OAuthAccountStore>> {
        self.inner.oauth_accounts()
    }

    fn audit(&self) -> Option<Arc<dyn super::AuditStore>> {
        self.inner.audit()
    }

    fn two_factor(&self) -> Option<Arc<dyn super::TwoFactorStore>> {
        self.inner.two_factor()
    }

    fn passkeys(&self) -> Option<std::sync::Arc<dyn super::PasskeyStore>> {
        self.inner.passkeys()
    }

    fn bans(&self) -> Option<Arc<dyn super::BanStore>> {
        self.inner.bans()
    }

    fn api_keys(&self) -> Option<std::sync::Arc<dyn super::ApiKeyStore>> {
        self.inner.api_keys()
    }

    fn shared(&self) -> bool {
        self.inner.shared()
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
        crate::store::contract::check(&store, |_| ()).await;
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

    /// A store other instances also write to, whose change feed the test drives.
    struct Shared {
        inner: MemoryStore<User>,
        feed: std::sync::Mutex<Option<mpsc::UnboundedReceiver<StoreChange>>>,
    }

    #[async_trait]
    impl UserStore<User> for Shared {
        async fn get(&self, id: &uuid::Uuid) -> Result<Option<User>, StoreError> {
            self.inner.get(id).await
        }
        async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
            self.inner.get_by_email(email).await
        }
        async fn get_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
            self.inner.get_by_login(login).await
        }
        async fn create(&self, user: User) -> Result<User, StoreError> {
            self.inner.create(user).await
        }
        async fn update(&self, user: User) -> Result<User, StoreError> {
            self.inner.update(user).await
        }
        async fn replace(&self, expected: &User, new: User) -> Result<User, StoreError> {
            self.inner.replace(expected, new).await
        }
        async fn delete(&self, id: &uuid::Uuid) -> Result<(), StoreError> {
            self.inner.delete(id).await
        }
        fn shared(&self) -> bool {
            true
        }
        fn changes(&self) -> Option<mpsc::UnboundedReceiver<StoreChange>> {
            self.feed.lock().unwrap().take()
        }
    }

    /// Lets the follower task run.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_shared_store_is_cached_only_while_its_change_feed_works() {
        let (feed, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            inner: MemoryStore::new(),
            feed: std::sync::Mutex::new(Some(receiver)),
        });
        let store = CachedStore::new(shared.clone(), CacheSettings::default());
        let ann = store
            .create(user::<User>("ann@example.com", ()))
            .await
            .unwrap();
        let other_instance_writes = |superuser: bool| {
            let mut changed = ann.clone();
            changed.is_superuser = superuser;
            shared.inner.update(changed)
        };

        // Before the feed is up nothing is served from the cache.
        store.get(&ann.id).await.unwrap();
        other_instance_writes(true).await.unwrap();
        assert!(store.get(&ann.id).await.unwrap().unwrap().is_superuser);

        // Feed up: cached, and another instance's announced change drops the entry.
        feed.send(StoreChange::Restored).unwrap();
        settle().await;
        store.get(&ann.id).await.unwrap();
        other_instance_writes(false).await.unwrap();
        assert!(
            store.get(&ann.id).await.unwrap().unwrap().is_superuser,
            "served from cache"
        );
        feed.send(StoreChange::User(ann.id.to_string())).unwrap();
        settle().await;
        assert!(!store.get(&ann.id).await.unwrap().unwrap().is_superuser);

        // Feed lost: unannounced changes are seen at once, since the cache is bypassed.
        feed.send(StoreChange::Lost).unwrap();
        settle().await;
        other_instance_writes(true).await.unwrap();
        assert!(store.get(&ann.id).await.unwrap().unwrap().is_superuser);
        other_instance_writes(false).await.unwrap();
        assert!(!store.get(&ann.id).await.unwrap().unwrap().is_superuser);
    }
}
