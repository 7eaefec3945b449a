//! The default store: SQLite through sqlx, bundled, in one file, zero setup.

use std::marker::PhantomData;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::SqlitePool;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};

use super::sql::{bind, bind_fields, db, decode, sql_store, write_error};
use super::table::{Dialect, Table, inspection, migration};
use super::{StoreError, UserStore};
use crate::model::{FieldValue, UserId, UserModel};
use crate::user::User;

/// Users of model `U` in a SQLite database file (WAL mode), in FastAPI Users'
/// `user` table plus one column per extra field of the model.
///
/// A fresh database gets the whole table. An existing one (a FastAPI Users
/// database, or an older version of the model) is checked at open: a missing column
/// stops startup with the `ALTER TABLE` that adds it.
///
/// ```no_run
/// # async fn run() -> Result<(), warden_runtime::StoreError> {
/// let store: warden_runtime::SqliteStore = warden_runtime::SqliteStore::open("sqlite://warden.db").await?;
/// # Ok(()) }
/// ```
pub struct SqliteStore<U: UserModel = User> {
    pool: SqlitePool,
    table: Arc<Table>,
    model: PhantomData<fn() -> U>,
}

/// Creates a missing database file readable by its owner only (it holds password
/// hashes and tokens), rather than letting SQLite create it under the umask;
/// SQLite gives its `-wal` and `-shm` files the database file's mode. An existing
/// file, or an in-memory database, is left as it is.
fn create_private(path: &std::path::Path) -> std::io::Result<()> {
    if path.as_os_str().is_empty() || path == std::path::Path::new(":memory:") {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

impl<U: UserModel> SqliteStore<U> {
    /// Opens (creating if missing) the database at `url` (`sqlite://path.db`, or a
    /// plain path), creates or checks the table.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Database(format!("bad SQLite URL {url:?}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        create_private(options.get_filename())
            .map_err(|e| StoreError::Database(format!("cannot create {url:?}: {e}")))?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Database(format!("cannot open {url:?}: {e}")))?;
        Self::from_pool(pool).await
    }

    /// A private in-memory database, for tests.
    pub async fn in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:").map_err(db)?;
        // One connection that never closes: each in-memory connection is its own
        // database.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(db)?;
        Self::from_pool(pool).await
    }

    /// Uses an existing pool: creates the table, or checks the existing one.
    pub async fn from_pool(pool: SqlitePool) -> Result<Self, StoreError> {
        let table = Table::new::<U>(Dialect::Sqlite);
        migrate::<U>(&pool, &table).await?;
        Ok(Self {
            pool,
            table: Arc::new(table),
            model: PhantomData,
        })
    }

    /// What is wrong with the table at `url` for model `U`, without changing
    /// anything (an absent table is one problem).
    pub async fn inspect(url: &str) -> Result<Vec<String>, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Database(format!("bad SQLite URL {url:?}: {e}")))?;
        let file = options.get_filename();
        if file != std::path::Path::new(":memory:") && !file.exists() {
            return Ok(vec![format!(
                "database file {} does not exist: run `warden migrate` (or start the application once)",
                file.display()
            )]);
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Database(format!("cannot open {url:?}: {e}")))?;
        let existing: Vec<(String, String)> =
            sqlx::query_as("SELECT name, type FROM pragma_table_info('user')")
                .fetch_all(&pool)
                .await
                .map_err(db)?;
        Ok(inspection::<U>(&existing, Dialect::Sqlite))
    }

    /// The underlying pool, for the application's own tables.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Runs a write; the number of users it changed.
    async fn write(&self, sql: &str, args: SqliteArguments<'_>) -> Result<usize, StoreError> {
        let result = sqlx::query_with(sql, args)
            .execute(&self.pool)
            .await
            .map_err(write_error)?;
        Ok(usize::try_from(result.rows_affected()).unwrap_or(usize::MAX))
    }
}

async fn migrate<U: UserModel>(pool: &SqlitePool, table: &Table) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db)?;
    let existing: Vec<(String, String)> =
        sqlx::query_as("SELECT name, type FROM pragma_table_info('user')")
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
    sqlx::raw_sql(migration::<U>(table, &existing, Dialect::Sqlite)?)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::Database(format!("migrating the user table failed: {e}")))?;
    super::migrate::run_steps!(
        tx,
        false,
        U::Id::KIND,
        "INSERT OR IGNORE INTO warden_schema (version) VALUES (?)"
    );
    tx.commit().await.map_err(db)
}

sql_store!(SqliteStore, SqliteArguments<'_>, {
    fn counters(&self) -> Option<Arc<dyn super::Counters>> {
        Some(Arc::new(crate::store::counters::sql::SqliteCounters(
            self.pool.clone(),
        )))
    }

    fn sessions(&self) -> Option<Arc<dyn super::SessionStore>> {
        Some(Arc::new(crate::store::sessions::sql::SqliteSessions(
            self.pool.clone(),
        )))
    }

    fn access_tokens(&self) -> Option<Arc<dyn super::AccessTokenStore>> {
        Some(Arc::new(super::access_tokens::SqliteAccessTokens {
            pool: self.pool.clone(),
            kind: U::Id::KIND,
        }))
    }

    fn oauth_accounts(&self) -> Option<Arc<dyn super::OAuthAccountStore>> {
        Some(Arc::new(super::oauth_accounts::SqliteOAuthAccounts {
            pool: self.pool.clone(),
            kind: U::Id::KIND,
        }))
    }

    fn audit(&self) -> Option<Arc<dyn super::AuditStore>> {
        Some(Arc::new(super::audit::SqliteAudit(self.pool.clone())))
    }

    fn two_factor(&self) -> Option<Arc<dyn super::TwoFactorStore>> {
        Some(Arc::new(super::two_factor::sql::SqliteTwoFactor(
            self.pool.clone(),
        )))
    }

    fn bans(&self) -> Option<Arc<dyn super::BanStore>> {
        Some(Arc::new(super::bans::sql::SqliteBans(self.pool.clone())))
    }

    fn passkeys(&self) -> Option<Arc<dyn super::PasskeyStore>> {
        Some(Arc::new(super::passkeys::SqlitePasskeys {
            pool: self.pool.clone(),
            kind: U::Id::KIND,
        }))
    }

    fn api_keys(&self) -> Option<Arc<dyn super::ApiKeyStore>> {
        Some(Arc::new(super::api_keys::SqliteApiKeys {
            pool: self.pool.clone(),
            kind: U::Id::KIND,
        }))
    }
});

#[cfg(test)]
mod tests {
    use super::*;

    /// The database holds password hashes: a new file is its owner's only, whatever
    /// the umask (0644 typically) would have made it.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_database_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.db");
        SqliteStore::<User>::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        for file in [path.clone(), dir.path().join("users.db-wal")] {
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", file.display());
        }
    }

    #[tokio::test]
    async fn contract_in_memory() {
        super::super::contract::check(&SqliteStore::<User>::in_memory().await.unwrap(), |_| ())
            .await;
    }

    #[tokio::test]
    async fn file_database_reopens_with_its_users_and_concurrent_inserts_are_unique() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let store = SqliteStore::<User>::open(&url).await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .create(super::super::contract::user::<User>("Same", ()))
                    .await
            }));
        }
        let mut created = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => created += 1,
                Err(StoreError::Duplicate) => {}
                Err(other) => panic!("unexpected {other}"),
            }
        }
        assert_eq!(created, 1);
        drop(store);
        let reopened = SqliteStore::<User>::open(&url).await.unwrap();
        assert!(
            reopened
                .get_by_email("same@example.com")
                .await
                .unwrap()
                .is_some()
        );
    }
}
