//! Bans in the store's database: `warden_ban` (schema step 7). User ids are text,
//! as in `warden_session`, so one table serves UUID and integer ids alike; the
//! manager lifts a deleted user's ban as it ends their sessions.

use async_trait::async_trait;

use super::{Ban, BanStore};
use crate::store::StoreError;

/// Schema step 7: the table.
pub(crate) const TABLE: &str = "CREATE TABLE IF NOT EXISTS warden_ban (
    user_id VARCHAR(64) PRIMARY KEY NOT NULL,
    reason VARCHAR(500),
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    banned_by VARCHAR(64)
);
";

fn db(error: sqlx::Error) -> StoreError {
    StoreError::Database(error.to_string())
}

/// A `warden_ban` row.
type Row = (String, Option<String>, i64, Option<i64>, Option<String>);

fn ban((user_id, reason, created_at, until, by): Row) -> Ban {
    Ban {
        user_id,
        reason,
        created_at,
        until,
        by,
    }
}

/// `$1`-style placeholders for PostgreSQL, `?1`-style for SQLite.
macro_rules! sql_bans {
    ($name:ident, $pool:ty, $p:expr) => {
        /// Bans in the store's database.
        #[derive(Debug, Clone)]
        pub(crate) struct $name(pub(crate) $pool);

        #[async_trait]
        impl BanStore for $name {
            async fn get(&self, user_id: &str) -> Result<Option<Ban>, StoreError> {
                let p = $p;
                let row: Option<Row> = sqlx::query_as(&format!(
                    "SELECT user_id, reason, created_at, expires_at, banned_by \
                     FROM warden_ban WHERE user_id = {}",
                    p(1)
                ))
                .bind(user_id)
                .fetch_optional(&self.0)
                .await
                .map_err(db)?;
                Ok(row.map(ban))
            }

            async fn put(&self, ban: &Ban) -> Result<(), StoreError> {
                let p = $p;
                sqlx::query(&format!(
                    "INSERT INTO warden_ban (user_id, reason, created_at, expires_at, banned_by) \
                     VALUES ({}, {}, {}, {}, {}) ON CONFLICT (user_id) DO UPDATE SET \
                     reason = excluded.reason, created_at = excluded.created_at, \
                     expires_at = excluded.expires_at, banned_by = excluded.banned_by",
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5)
                ))
                .bind(&ban.user_id)
                .bind(&ban.reason)
                .bind(ban.created_at)
                .bind(ban.until)
                .bind(&ban.by)
                .execute(&self.0)
                .await
                .map_err(db)?;
                Ok(())
            }

            async fn remove(&self, user_id: &str) -> Result<bool, StoreError> {
                let p = $p;
                let removed =
                    sqlx::query(&format!("DELETE FROM warden_ban WHERE user_id = {}", p(1)))
                        .bind(user_id)
                        .execute(&self.0)
                        .await
                        .map_err(db)?
                        .rows_affected();
                Ok(removed > 0)
            }
        }
    };
}

#[cfg(feature = "sqlite")]
sql_bans!(SqliteBans, sqlx::SqlitePool, |n: usize| format!("?{n}"));
#[cfg(feature = "postgres")]
sql_bans!(PostgresBans, sqlx::PgPool, |n: usize| format!("${n}"));
