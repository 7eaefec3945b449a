//! Counters in the store's database, table `warden_throttle`: one row per key, its
//! window and count, incremented atomically by an upsert (so concurrent failures on
//! several instances all count).

use async_trait::async_trait;

use super::Counters;
use crate::store::StoreError;

/// The index the purge scans by (migration step 4): without it a purge reads the
/// whole table, on SQLite under the write lock.
pub(crate) const WINDOW_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS warden_throttle_window ON warden_throttle (window_start);\n";

/// The table, created with the user table.
pub(crate) const TABLE: &str = "CREATE TABLE IF NOT EXISTS warden_throttle (\n    key VARCHAR(512) PRIMARY KEY NOT NULL,\n    window_start BIGINT NOT NULL,\n    hits BIGINT NOT NULL\n);\n";

fn db(error: sqlx::Error) -> StoreError {
    StoreError::Database(error.to_string())
}

macro_rules! sql_counters {
    ($name:ident, $pool:ty, $p1:literal, $p2:literal) => {
        /// Counters in the `warden_throttle` table.
        #[derive(Debug, Clone)]
        pub(crate) struct $name(pub(crate) $pool);

        #[async_trait]
        impl Counters for $name {
            async fn hit(&self, key: &str, window: i64) -> Result<u64, StoreError> {
                let (hits,): (i64,) = sqlx::query_as(concat!(
                    "INSERT INTO warden_throttle (key, window_start, hits) VALUES (",
                    $p1,
                    ", ",
                    $p2,
                    ", 1) ON CONFLICT (key) DO UPDATE SET ",
                    // A later window starts afresh; an instance whose clock lags
                    // counts into the current one rather than turning it back.
                    "hits = CASE WHEN excluded.window_start > warden_throttle.window_start ",
                    "THEN 1 ELSE warden_throttle.hits + 1 END, ",
                    "window_start = CASE WHEN excluded.window_start > warden_throttle.window_start ",
                    "THEN excluded.window_start ELSE warden_throttle.window_start END RETURNING hits"
                ))
                .bind(key)
                .bind(window)
                .fetch_one(&self.0)
                .await
                .map_err(db)?;
                Ok(u64::try_from(hits).unwrap_or(0))
            }

            async fn count(&self, key: &str, window: i64) -> Result<u64, StoreError> {
                let row: Option<(i64,)> = sqlx::query_as(concat!(
                    "SELECT hits FROM warden_throttle WHERE key = ",
                    $p1,
                    " AND window_start = ",
                    $p2
                ))
                .bind(key)
                .bind(window)
                .fetch_optional(&self.0)
                .await
                .map_err(db)?;
                Ok(row.map_or(0, |(hits,)| u64::try_from(hits).unwrap_or(0)))
            }

            async fn clear(&self, key: &str) -> Result<(), StoreError> {
                sqlx::query(concat!("DELETE FROM warden_throttle WHERE key = ", $p1))
                    .bind(key)
                    .execute(&self.0)
                    .await
                    .map_err(db)?;
                Ok(())
            }

            async fn purge(&self, window: i64) -> Result<(), StoreError> {
                sqlx::query(concat!(
                    "DELETE FROM warden_throttle WHERE window_start < ",
                    $p1
                ))
                .bind(window)
                .execute(&self.0)
                .await
                .map_err(db)?;
                Ok(())
            }

            async fn key_count(&self) -> Result<u64, StoreError> {
                let (rows,): (i64,) =
                    sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM warden_throttle")
                        .fetch_one(&self.0)
                        .await
                        .map_err(db)?;
                Ok(u64::try_from(rows).unwrap_or(0))
            }
        }
    };
}

#[cfg(feature = "sqlite")]
sql_counters!(SqliteCounters, sqlx::SqlitePool, "?", "?");
#[cfg(feature = "postgres")]
sql_counters!(PostgresCounters, sqlx::PgPool, "$1", "$2");
