//! One warden served over one store on a manual clock, with raw SQL on the store's
//! database beside it: what a test file whose flows run `on_every_store!` builds for
//! each store. The file says how its warden is configured; [`Store`] opens the
//! stores its `memory()`, `sqlite(&dir)` and `postgres(test)` answer with.

use std::sync::Arc;

use axum::Router;
use warden::store::CacheSettings;
use warden::{Clock, MemoryStore, User, UserModel, UserStore, Warden, WardenBuilder};

use super::{Db, Http};

/// A store for one test, and raw SQL on its database (`None` for the memory store).
pub struct Store {
    pub store: Arc<dyn UserStore<User>>,
    pub db: Option<Db>,
}

impl Store {
    /// A fresh memory store.
    pub fn memory() -> Self {
        Self {
            store: Arc::new(MemoryStore::new()),
            db: None,
        }
    }

    /// A SQLite store in the file `file` of `dir`, and SQL on its pool.
    pub async fn sqlite(dir: &tempfile::TempDir, file: &str) -> Self {
        let url = format!("sqlite://{}", dir.path().join(file).display());
        let store = warden::SqliteStore::open(&url).await.unwrap();
        let db = Db::Sqlite(store.pool().clone());
        Self {
            store: Arc::new(store),
            db: Some(db),
        }
    }

    /// A PostgreSQL store in a schema of its own ([`super::postgres`]), and SQL on a
    /// pool of that schema; `None` when no PostgreSQL is configured.
    pub async fn postgres(test: &str) -> Option<Self> {
        let (url, options) = super::postgres(test).await?;
        let store = warden::PostgresStore::<User>::connect_with(options.clone(), &url)
            .await
            .unwrap();
        let db = Db::Postgres(sqlx::PgPool::connect_with(options).await.unwrap());
        Some(Self {
            store: Arc::new(store),
            db: Some(db),
        })
    }
}

/// A served warden over one [`Store`], on a manual clock.
pub struct App {
    pub http: Http,
    pub warden: Warden,
    pub clock: Clock,
    pub db: Option<Db>,
}

impl App {
    /// Builds the warden that `configure` makes of a builder over `store` on a manual
    /// clock set to now, and serves it with the demo routes ([`super::app`]).
    pub async fn over(
        store: Store,
        configure: impl FnOnce(WardenBuilder) -> WardenBuilder,
    ) -> Self {
        Self::over_with(store, configure, |_| Router::new()).await
    }

    /// [`App::over`], with the routes `routes` makes for the warden beside the demo
    /// routes.
    pub async fn over_with(
        store: Store,
        configure: impl FnOnce(WardenBuilder) -> WardenBuilder,
        routes: impl FnOnce(&Warden) -> Router,
    ) -> Self {
        let clock = Clock::manual(super::now());
        let builder = Warden::builder()
            .clock(clock.clone())
            .shared_store(store.store);
        let warden: Warden = configure(builder).build().unwrap();
        let router = super::app(&warden).merge(routes(&warden));
        let http = Http::new(super::serve(router).await);
        Self {
            http,
            warden,
            clock,
            db: store.db,
        }
    }
}

/// Two instances' stores over one database: the memory store shared (one process
/// of two wardens), two pools on one SQLite file, two on one PostgreSQL schema;
/// and raw SQL beside them.
pub struct Shared<U: UserModel = User> {
    pub stores: [Arc<dyn UserStore<U>>; 2],
    pub db: Option<Db>,
}

impl<U: UserModel> Shared<U> {
    pub fn memory() -> Self {
        let store: Arc<dyn UserStore<U>> = Arc::new(MemoryStore::<U>::new());
        Self {
            stores: [Arc::clone(&store), store],
            db: None,
        }
    }

    pub async fn sqlite(dir: &tempfile::TempDir, file: &str) -> Self {
        let url = format!("sqlite://{}", dir.path().join(file).display());
        let one = warden::SqliteStore::<U>::open(&url).await.unwrap();
        let two = warden::SqliteStore::<U>::open(&url).await.unwrap();
        let db = Db::Sqlite(one.pool().clone());
        Self {
            stores: [Arc::new(one), Arc::new(two)],
            db: Some(db),
        }
    }

    pub async fn postgres(test: &str) -> Option<Self> {
        let (url, options) = super::postgres(test).await?;
        let one = warden::PostgresStore::<U>::connect_with(options.clone(), &url)
            .await
            .unwrap();
        let two = warden::PostgresStore::<U>::connect_with(options.clone(), &url)
            .await
            .unwrap();
        let db = Db::Postgres(sqlx::PgPool::connect_with(options).await.unwrap());
        Some(Self {
            stores: [Arc::new(one), Arc::new(two)],
            db: Some(db),
        })
    }

    /// The user cache each instance may keep: only over PostgreSQL, whose change
    /// feed tells every instance what another changed; over SQLite (no feed) or
    /// the shared memory store, none, so a change on A is read on B at once.
    pub fn cache(&self) -> CacheSettings {
        match self.db {
            Some(Db::Postgres(_)) => CacheSettings::default(),
            _ => CacheSettings {
                capacity: 0,
                ..CacheSettings::default()
            },
        }
    }
}
