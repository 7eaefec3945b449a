//! The default store: SQLite through sqlx, bundled, in one file, zero setup.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
use uuid::Uuid;

use super::{StoreError, UserStore};
use crate::user::User;

/// Embedded migrations, applied in order at open. Each runs once, recorded in
/// `warden_schema`; the first creates FastAPI Users' table only if it is absent.
const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("../../migrations/sqlite/0001_user.sql"))];

macro_rules! columns {
    () => {
        "id, email, hashed_password, is_active, is_superuser, is_verified"
    };
}

const SELECT_BY_ID: &str = concat!("SELECT ", columns!(), " FROM \"user\" WHERE id = ?");
const SELECT_BY_EMAIL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM \"user\" WHERE lower(email) = lower(?)"
);
const INSERT: &str = concat!(
    "INSERT INTO \"user\" (",
    columns!(),
    ") VALUES (?, ?, ?, ?, ?, ?)"
);
const REPLACE: &str = "UPDATE \"user\" SET email = ?, hashed_password = ?, is_active = ?, is_superuser = ?, is_verified = ? WHERE id = ? AND email = ? AND hashed_password = ? AND is_active = ? AND is_superuser = ? AND is_verified = ?";
const UPDATE: &str = "UPDATE \"user\" SET email = ?, hashed_password = ?, is_active = ?, is_superuser = ?, is_verified = ? WHERE id = ?";

/// Users in a SQLite database file (WAL mode), FastAPI Users' schema.
///
/// ```no_run
/// # async fn run() -> Result<(), warden_runtime::StoreError> {
/// let store = warden_runtime::SqliteStore::open("sqlite://warden.db").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://path.db`, or a
    /// plain path) and applies the migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Database(format!("bad SQLite URL {url:?}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
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

    /// Uses an existing pool and applies the migrations.
    pub async fn from_pool(pool: SqlitePool) -> Result<Self, StoreError> {
        migrate(&pool).await?;
        Ok(Self { pool })
    }

    /// The underlying pool, for the application's own tables.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db)?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS warden_schema (version INTEGER PRIMARY KEY NOT NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    let applied: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM warden_schema")
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
    for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > applied) {
        sqlx::raw_sql(sql)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::Database(format!("migration {version} failed: {e}")))?;
        sqlx::query("INSERT INTO warden_schema (version) VALUES (?)")
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    tx.commit().await.map_err(db)
}

fn db(error: sqlx::Error) -> StoreError {
    StoreError::Database(error.to_string())
}

/// Unique violations on the e-mail indexes become [`StoreError::DuplicateEmail`].
fn write_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(e) if e.is_unique_violation() && !e.message().contains("user.id") => {
            StoreError::DuplicateEmail
        }
        _ => db(error),
    }
}

fn to_user(row: &SqliteRow) -> Result<User, StoreError> {
    let id: String = row.try_get("id").map_err(db)?;
    Ok(User {
        id: Uuid::parse_str(&id)
            .map_err(|_| StoreError::Corrupt(format!("user id {id:?} is not a UUID")))?,
        email: row.try_get("email").map_err(db)?,
        hashed_password: row.try_get("hashed_password").map_err(db)?,
        is_active: row.try_get("is_active").map_err(db)?,
        is_superuser: row.try_get("is_superuser").map_err(db)?,
        is_verified: row.try_get("is_verified").map_err(db)?,
    })
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn get(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        sqlx::query(SELECT_BY_ID)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .as_ref()
            .map(to_user)
            .transpose()
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        sqlx::query(SELECT_BY_EMAIL)
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .as_ref()
            .map(to_user)
            .transpose()
    }

    async fn create(&self, user: User) -> Result<User, StoreError> {
        sqlx::query(INSERT)
            .bind(user.id.to_string())
            .bind(&user.email)
            .bind(&user.hashed_password)
            .bind(user.is_active)
            .bind(user.is_superuser)
            .bind(user.is_verified)
            .execute(&self.pool)
            .await
            .map_err(write_error)?;
        Ok(user)
    }

    async fn update(&self, user: User) -> Result<User, StoreError> {
        let result = sqlx::query(UPDATE)
            .bind(&user.email)
            .bind(&user.hashed_password)
            .bind(user.is_active)
            .bind(user.is_superuser)
            .bind(user.is_verified)
            .bind(user.id.to_string())
            .execute(&self.pool)
            .await
            .map_err(write_error)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(user)
    }

    async fn replace(&self, expected: &User, new: User) -> Result<User, StoreError> {
        if new.id != expected.id {
            return Err(StoreError::Database(
                "replace cannot change a user's id".into(),
            ));
        }
        let result = sqlx::query(REPLACE)
            .bind(&new.email)
            .bind(&new.hashed_password)
            .bind(new.is_active)
            .bind(new.is_superuser)
            .bind(new.is_verified)
            .bind(expected.id.to_string())
            .bind(&expected.email)
            .bind(&expected.hashed_password)
            .bind(expected.is_active)
            .bind(expected.is_superuser)
            .bind(expected.is_verified)
            .execute(&self.pool)
            .await
            .map_err(write_error)?;
        if result.rows_affected() == 1 {
            return Ok(new);
        }
        match self.get(expected.id).await? {
            None => Err(StoreError::NotFound),
            Some(_) => Err(StoreError::Conflict),
        }
    }

    async fn delete(&self, id: Uuid) -> Result<(), StoreError> {
        let result = sqlx::query("DELETE FROM \"user\" WHERE id = ?")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn contract_in_memory() {
        super::super::contract::check(&SqliteStore::in_memory().await.unwrap()).await;
    }

    #[tokio::test]
    async fn file_database_reopens_with_its_users_and_concurrent_inserts_are_unique() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .create(super::super::contract::user("Same@example.com"))
                    .await
            }));
        }
        let mut created = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => created += 1,
                Err(StoreError::DuplicateEmail) => {}
                Err(other) => panic!("unexpected {other}"),
            }
        }
        assert_eq!(created, 1);
        drop(store);
        let reopened = SqliteStore::open(&url).await.unwrap();
        assert!(
            reopened
                .get_by_email("same@example.com")
                .await
                .unwrap()
                .is_some()
        );
    }
}
