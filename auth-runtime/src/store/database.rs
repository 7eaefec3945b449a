//! [`DatabaseStore`]: the store a database URL names, SQLite or PostgreSQL, so one
//! setting (`WARDEN_DATABASE_URL`) switches an application between them.

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::{SqliteStore, StoreChange, StoreError, UserStore};
use crate::model::UserModel;
use crate::user::User;

/// The store at a database URL: `sqlite://path.db` (or a plain path) for SQLite,
/// `postgres://...` or `postgresql://...` for PostgreSQL (cargo feature `postgres`,
/// on by default).
///
/// ```no_run
/// # async fn run() -> Result<(), warden_runtime::StoreError> {
/// let url = std::env::var("WARDEN_DATABASE_URL").unwrap_or_else(|_| "sqlite://warden.db".into());
/// let store: warden_runtime::DatabaseStore = warden_runtime::DatabaseStore::open(&url).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DatabaseStore<U: UserModel = User> {
    /// SQLite.
    Sqlite(SqliteStore<U>),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(super::PostgresStore<U>),
}

/// Whether `url` names a PostgreSQL database.
fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl<U: UserModel> DatabaseStore<U> {
    /// Opens the database at `url`, creating the user table or checking the existing
    /// one.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if is_postgres(url) {
            #[cfg(feature = "postgres")]
            return Ok(Self::Postgres(super::PostgresStore::open(url).await?));
            #[cfg(not(feature = "postgres"))]
            return Err(StoreError::Database(
                "PostgreSQL support is off: enable warden's `postgres` feature".into(),
            ));
        }
        Ok(Self::Sqlite(SqliteStore::open(url).await?))
    }

    /// What is wrong with the user table at `url` for model `U`, without changing
    /// anything: empty when it fits.
    pub async fn inspect(url: &str) -> Result<Vec<String>, StoreError> {
        if is_postgres(url) {
            #[cfg(feature = "postgres")]
            return super::PostgresStore::<U>::inspect(url).await;
            #[cfg(not(feature = "postgres"))]
            return Err(StoreError::Database(
                "PostgreSQL support is off: enable warden's `postgres` feature".into(),
            ));
        }
        SqliteStore::<U>::inspect(url).await
    }

    /// Closes the connections (a SQLite file then has no `-wal` / `-shm` left beside
    /// it); for command-line tools that exit right after.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(store) => store.pool().close().await,
            #[cfg(feature = "postgres")]
            Self::Postgres(store) => store.pool().close().await,
        }
    }

    fn inner(&self) -> &dyn UserStore<U> {
        match self {
            Self::Sqlite(store) => store,
            #[cfg(feature = "postgres")]
            Self::Postgres(store) => store,
        }
    }
}

#[async_trait]
impl<U: UserModel> UserStore<U> for DatabaseStore<U> {
    async fn get(&self, id: &U::Id) -> Result<Option<U>, StoreError> {
        self.inner().get(id).await
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<U>, StoreError> {
        self.inner().get_by_email(email).await
    }

    async fn get_by_login(&self, login: &str) -> Result<Option<U>, StoreError> {
        self.inner().get_by_login(login).await
    }

    fn counters(&self) -> Option<std::sync::Arc<dyn crate::throttle::Counters>> {
        self.inner().counters()
    }

    fn sessions(&self) -> Option<std::sync::Arc<dyn crate::session::SessionStore>> {
        self.inner().sessions()
    }

    fn access_tokens(&self) -> Option<std::sync::Arc<dyn crate::strategy::AccessTokenStore>> {
        self.inner().access_tokens()
    }

    fn oauth_accounts(&self) -> Option<std::sync::Arc<dyn super::OAuthAccountStore>> {
        self.inner().oauth_accounts()
    }

    async fn create(&self, user: U) -> Result<U, StoreError> {
        self.inner().create(user).await
    }

    async fn update(&self, user: U) -> Result<U, StoreError> {
        self.inner().update(user).await
    }

    async fn replace(&self, expected: &U, new: U) -> Result<U, StoreError> {
        self.inner().replace(expected, new).await
    }

    async fn delete(&self, id: &U::Id) -> Result<(), StoreError> {
        self.inner().delete(id).await
    }

    fn shared(&self) -> bool {
        self.inner().shared()
    }

    fn changes(&self) -> Option<mpsc::UnboundedReceiver<StoreChange>> {
        self.inner().changes()
    }
}
