//! FastAPI Users' `accesstoken` table, as its SQLAlchemy adapter creates it: `token`
//! VARCHAR(43) primary key, `created_at` timezone-aware timestamp (indexed),
//! `user_id` referencing the user with `ON DELETE CASCADE`. SQLite stores the
//! timestamp as SQLAlchemy does, `YYYY-MM-DD HH:MM:SS.ffffff` in UTC.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::StoreError;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use super::sql::db;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::model::IdKind;

/// The `accesstoken` table of a store.
#[async_trait]
pub trait AccessTokenStore: Send + Sync + 'static {
    /// Stores `token` for the user whose id reads `user_id`, created at `created_at`
    /// (Unix seconds).
    async fn insert(&self, token: &str, user_id: &str, created_at: i64) -> Result<(), StoreError>;
    /// The user id and creation time of `token`, if it was created at
    /// `not_before` or later (FastAPI Users' `max_age`).
    async fn find(
        &self,
        token: &str,
        not_before: Option<i64>,
    ) -> Result<Option<(String, i64)>, StoreError>;
    /// Deletes `token`.
    async fn delete(&self, token: &str) -> Result<(), StoreError>;
}

/// The table and its index, for a user id of `kind`.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn table(postgres: bool, kind: IdKind) -> String {
    let (created_at, user_id) = match (postgres, kind) {
        (true, IdKind::Uuid) => ("TIMESTAMP WITH TIME ZONE", "UUID"),
        (true, IdKind::Integer) => ("TIMESTAMP WITH TIME ZONE", "BIGINT"),
        (false, IdKind::Uuid) => ("TIMESTAMP", "CHAR(36)"),
        (false, IdKind::Integer) => ("TIMESTAMP", "INTEGER"),
    };
    format!(
        "CREATE TABLE IF NOT EXISTS accesstoken (\n    token VARCHAR(43) NOT NULL,\n    created_at {created_at} NOT NULL,\n    user_id {user_id} NOT NULL,\n    PRIMARY KEY (token),\n    FOREIGN KEY(user_id) REFERENCES \"user\" (id) ON DELETE CASCADE\n);\nCREATE INDEX IF NOT EXISTS ix_accesstoken_created_at ON accesstoken (created_at);\n"
    )
}

/// An `accesstoken` table in a SQL database: the statements differ, the steps not.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! sql_access_tokens {
    ($name:ident, $pool:ty, insert: $insert:expr, find: $find:expr, delete: $delete:expr) => {
        /// `accesstoken` in the store's database.
        #[derive(Debug, Clone)]
        pub(crate) struct $name {
            pub(crate) pool: $pool,
            pub(crate) kind: IdKind,
        }

        #[async_trait]
        impl AccessTokenStore for $name {
            async fn insert(
                &self,
                token: &str,
                user_id: &str,
                created_at: i64,
            ) -> Result<(), StoreError> {
                sqlx::query(($insert)(self.kind))
                    .bind(token)
                    .bind(created_at)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(())
            }

            async fn find(
                &self,
                token: &str,
                not_before: Option<i64>,
            ) -> Result<Option<(String, i64)>, StoreError> {
                sqlx::query_as($find)
                    .bind(token)
                    .bind(not_before)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db)
            }

            async fn delete(&self, token: &str) -> Result<(), StoreError> {
                sqlx::query($delete)
                    .bind(token)
                    .execute(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(())
            }
        }
    };
}

#[cfg(feature = "sqlite")]
sql_access_tokens!(
    SqliteAccessTokens,
    sqlx::SqlitePool,
    // strftime's %f has milliseconds; SQLAlchemy writes microseconds. The column's
    // affinity turns an integer id's text into an integer.
    insert: |_: IdKind| "INSERT INTO accesstoken (token, created_at, user_id) \
        VALUES (?, strftime('%Y-%m-%d %H:%M:%f', ?, 'unixepoch') || '000', ?)",
    find: "SELECT CAST(user_id AS TEXT), CAST(strftime('%s', created_at) AS INTEGER) \
        FROM accesstoken WHERE token = ?1 \
        AND (?2 IS NULL OR CAST(strftime('%s', created_at) AS INTEGER) >= ?2)",
    delete: "DELETE FROM accesstoken WHERE token = ?"
);

#[cfg(feature = "postgres")]
sql_access_tokens!(
    PostgresAccessTokens,
    sqlx::PgPool,
    insert: |kind| match kind {
        IdKind::Uuid => "INSERT INTO accesstoken (token, created_at, user_id) \
            VALUES ($1, to_timestamp($2), $3::uuid)",
        IdKind::Integer => "INSERT INTO accesstoken (token, created_at, user_id) \
            VALUES ($1, to_timestamp($2), $3::bigint)",
    },
    find: "SELECT user_id::text, floor(extract(epoch FROM created_at))::bigint \
        FROM accesstoken WHERE token = $1 \
        AND ($2::bigint IS NULL OR created_at >= to_timestamp($2::bigint))",
    delete: "DELETE FROM accesstoken WHERE token = $1"
);

/// `accesstoken` in memory, for the memory store.
#[derive(Debug, Default)]
pub(crate) struct MemoryAccessTokens(Mutex<HashMap<String, (String, i64)>>);

impl MemoryAccessTokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, i64)>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets the tokens of a deleted user, as the table's `ON DELETE CASCADE` does.
    pub(crate) fn delete_user(&self, user_id: &str) {
        self.lock().retain(|_, (owner, _)| owner != user_id);
    }
}

#[async_trait]
impl AccessTokenStore for MemoryAccessTokens {
    async fn insert(&self, token: &str, user_id: &str, created_at: i64) -> Result<(), StoreError> {
        self.lock()
            .insert(token.to_owned(), (user_id.to_owned(), created_at));
        Ok(())
    }

    async fn find(
        &self,
        token: &str,
        not_before: Option<i64>,
    ) -> Result<Option<(String, i64)>, StoreError> {
        Ok(self
            .lock()
            .get(token)
            .filter(|(_, created_at)| not_before.is_none_or(|limit| *created_at >= limit))
            .cloned())
    }

    async fn delete(&self, token: &str) -> Result<(), StoreError> {
        self.lock().remove(token);
        Ok(())
    }
}
