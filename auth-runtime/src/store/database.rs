//! [`DatabaseStore`]: the store a database URL names, SQLite or PostgreSQL, so one
//! setting (`WARDEN_DATABASE_URL`) switches an application between them.

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::{StoreChange, StoreError, UserStore};
use crate::model::UserModel;
use crate::user::User;

/// The store at a database URL: `sqlite://path.db` (or a plain path) for SQLite
/// (cargo feature `sqlite`, on by default), `postgres://...` or `postgresql://...`
/// for PostgreSQL (cargo feature `postgres`). A URL whose feature is off is an error
/// naming the feature.
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
    #[cfg(feature = "sqlite")]
    Sqlite(super::SqliteStore<U>),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(super::PostgresStore<U>),
}

/// Whether `url` names a PostgreSQL database.
fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The one-line error for a URL whose database support is compiled out: it names
/// the cargo feature, since the fix is in Cargo.toml, not in the URL.
#[cfg(not(all(feature = "sqlite", feature = "postgres")))]
fn feature_off(database: &str, feature: &str) -> StoreError {
    StoreError::Database(format!(
        "{database} support is off: enable warden's `{feature}` cargo feature \
         (warden = {{ version = \"...\", features = [\"{feature}\"] }})"
    ))
}

impl<U: UserModel> DatabaseStore<U> {
    /// Opens the database at `url`, creating the user table or checking the existing
    /// one.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if is_postgres(url) {
            #[cfg(feature = "postgres")]
            return Ok(Self::Postgres(super::PostgresStore::open(url).await?));
            #[cfg(not(feature = "postgres"))]
            return Err(feature_off("PostgreSQL", "postgres"));
        }
        #[cfg(feature = "sqlite")]
        return Ok(Self::Sqlite(super::SqliteStore::open(url).await?));
        #[cfg(not(feature = "sqlite"))]
        Err(feature_off("SQLite", "sqlite"))
    }

    /// What is wrong with the user table at `url` for model `U`, without changing
    /// anything: empty when it fits.
    pub async fn inspect(url: &str) -> Result<Vec<String>, StoreError> {
        if is_postgres(url) {
            #[cfg(feature = "postgres")]
            return super::PostgresStore::<U>::inspect(url).await;
            #[cfg(not(feature = "postgres"))]
            return Err(feature_off("PostgreSQL", "postgres"));
        }
        #[cfg(feature = "sqlite")]
        return super::SqliteStore::<U>::inspect(url).await;
        #[cfg(not(feature = "sqlite"))]
        Err(feature_off("SQLite", "sqlite"))
    }

    /// Closes the connections (a SQLite file then has no `-wal` / `-shm` left beside
    /// it); for command-line tools that exit right after.
    pub async fn close(&self) {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(store) => store.pool().close().await,
            #[cfg(feature = "postgres")]
            Self::Postgres(store) => store.pool().close().await,
        }
    }

    fn inner(&self) -> &dyn UserStore<U> {
        match self {
            #[cfg(feature = "sqlite")]
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

    async fn list(
        &self,
        filter: &super::UserFilter,
        after: Option<&U::Id>,
        limit: usize,
    ) -> Result<Vec<U>, StoreError> {
        self.inner().list(filter, after, limit).await
    }

    fn counters(&self) -> Option<std::sync::Arc<dyn super::Counters>> {
        self.inner().counters()
    }

    fn sessions(&self) -> Option<std::sync::Arc<dyn super::SessionStore>> {
        self.inner().sessions()
    }

    fn access_tokens(&self) -> Option<std::sync::Arc<dyn super::AccessTokenStore>> {
        self.inner().access_tokens()
    }

    fn oauth_accounts(&self) -> Option<std::sync::Arc<dyn super::OAuthAccountStore>> {
        self.inner().oauth_accounts()
    }

    fn audit(&self) -> Option<std::sync::Arc<dyn super::AuditStore>> {
        self.inner().audit()
    }

    fn two_factor(&self) -> Option<std::sync::Arc<dyn super::TwoFactorStore>> {
        self.inner().two_factor()
    }

    fn passkeys(&self) -> Option<std::sync::Arc<dyn super::PasskeyStore>> {
        self.inner().passkeys()
    }

    fn bans(&self) -> Option<std::sync::Arc<dyn super::BanStore>> {
        self.inner().bans()
    }

    fn api_keys(&self) -> Option<std::sync::Arc<dyn super::ApiKeyStore>> {
        self.inner().api_keys()
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
