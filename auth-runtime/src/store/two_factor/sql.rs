//! Two-factor state in the store's database: `warden_two_factor`,
//! `warden_recovery_code` and `warden_mfa_challenge` (schema step 5). User ids are
//! text, as in `warden_session`, so one table serves UUID and integer ids alike;
//! the manager forgets a deleted user's rows ([`TwoFactorStore::forget_user`]), as
//! it ends its sessions.
//!
//! What must hold across instances is one statement: a time step advances only
//! forward (`UPDATE … WHERE last_step < ?`), a recovery code or a challenge is
//! deleted by the one call that finds it, a try is counted by the `UPDATE` that
//! checks the limit. A confirmation is one transaction whose first statement is the
//! compare-and-set on the pending secret.

use async_trait::async_trait;

use super::{MfaChallenge, TwoFactorRecord, TwoFactorStore};
use crate::store::StoreError;

/// Schema step 5: the tables and the index the challenges' purge scans by.
pub(crate) const TABLES: &str = "CREATE TABLE IF NOT EXISTS warden_two_factor (
    user_id VARCHAR(64) PRIMARY KEY NOT NULL,
    secret VARCHAR(512),
    pending VARCHAR(512),
    last_step BIGINT,
    enabled_at BIGINT,
    devices_trusted_after BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS warden_recovery_code (
    user_id VARCHAR(64) NOT NULL,
    code_hash VARCHAR(64) NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);
CREATE TABLE IF NOT EXISTS warden_mfa_challenge (
    token_hash VARCHAR(64) PRIMARY KEY NOT NULL,
    user_id VARCHAR(64) NOT NULL,
    backend VARCHAR(64) NOT NULL,
    amr VARCHAR(128) NOT NULL,
    binding VARCHAR(128),
    expires_at BIGINT NOT NULL,
    tries INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS warden_mfa_challenge_expiry ON warden_mfa_challenge (expires_at);
";

fn db(error: sqlx::Error) -> StoreError {
    StoreError::Database(error.to_string())
}

/// A `warden_two_factor` row.
type RecordRow = (
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i64,
);

fn record(
    (user_id, secret, pending, last_step, enabled_at, devices_trusted_after): RecordRow,
) -> TwoFactorRecord {
    TwoFactorRecord {
        user_id,
        secret,
        pending,
        last_step,
        enabled_at,
        devices_trusted_after,
    }
}

/// A `warden_mfa_challenge` row.
type ChallengeRow = (String, String, String, String, Option<String>, i64, i32);

const CHALLENGE_COLUMNS: &str = "token_hash, user_id, backend, amr, binding, expires_at, tries";

fn challenge(
    (token_hash, user_id, backend, amr, binding, expires_at, tries): ChallengeRow,
) -> MfaChallenge {
    MfaChallenge {
        token_hash,
        user_id,
        backend,
        // RFC 8176 values never contain a space.
        amr: amr
            .split(' ')
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect(),
        binding,
        expires_at,
        tries: u32::try_from(tries).unwrap_or(0),
    }
}

/// `$1`-style placeholders for PostgreSQL, `?1`-style for SQLite.
macro_rules! sql_two_factor {
    ($name:ident, $pool:ty, $db:ty, $p:expr) => {
        /// Two-factor state in the store's database.
        #[derive(Debug, Clone)]
        pub(crate) struct $name(pub(crate) $pool);

        impl $name {
            /// Replaces the user's codes inside `tx`.
            async fn put_codes(
                tx: &mut sqlx::Transaction<'_, $db>,
                user_id: &str,
                codes: &[String],
            ) -> Result<(), StoreError> {
                let p = $p;
                sqlx::query(&format!(
                    "DELETE FROM warden_recovery_code WHERE user_id = {}",
                    p(1)
                ))
                .bind(user_id)
                .execute(&mut **tx)
                .await
                .map_err(db)?;
                for code in codes {
                    sqlx::query(&format!(
                        "INSERT INTO warden_recovery_code (user_id, code_hash) VALUES ({}, {}) \
                         ON CONFLICT DO NOTHING",
                        p(1),
                        p(2)
                    ))
                    .bind(user_id)
                    .bind(code)
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
                }
                Ok(())
            }
        }

        #[async_trait]
        impl TwoFactorStore for $name {
            async fn get(&self, user_id: &str) -> Result<Option<TwoFactorRecord>, StoreError> {
                let p = $p;
                let row: Option<RecordRow> = sqlx::query_as(&format!(
                    "SELECT user_id, secret, pending, last_step, enabled_at, devices_trusted_after \
                     FROM warden_two_factor WHERE user_id = {}",
                    p(1)
                ))
                .bind(user_id)
                .fetch_optional(&self.0)
                .await
                .map_err(db)?;
                Ok(row.map(record))
            }

            async fn set_pending(&self, user_id: &str, sealed: &str) -> Result<(), StoreError> {
                let p = $p;
                sqlx::query(&format!(
                    "INSERT INTO warden_two_factor (user_id, pending, devices_trusted_after) \
                     VALUES ({}, {}, 0) ON CONFLICT (user_id) DO UPDATE SET pending = excluded.pending",
                    p(1),
                    p(2)
                ))
                .bind(user_id)
                .bind(sealed)
                .execute(&self.0)
                .await
                .map_err(db)?;
                Ok(())
            }

            async fn confirm(
                &self,
                user_id: &str,
                pending: &str,
                step: i64,
                now: i64,
                codes: &[String],
            ) -> Result<bool, StoreError> {
                let p = $p;
                let mut tx = self.0.begin().await.map_err(db)?;
                // The compare-and-set comes first: it takes the row's write lock, so
                // a concurrent confirmation waits, then finds the pending secret gone.
                let confirmed = sqlx::query(&format!(
                    "UPDATE warden_two_factor SET secret = pending, pending = NULL, last_step = {}, \
                     enabled_at = {}, devices_trusted_after = CASE WHEN devices_trusted_after > {} \
                     THEN devices_trusted_after ELSE {} END WHERE user_id = {} AND pending = {}",
                    p(1),
                    p(2),
                    p(2),
                    p(2),
                    p(3),
                    p(4)
                ))
                .bind(step)
                .bind(now)
                .bind(user_id)
                .bind(pending)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
                if confirmed == 0 {
                    tx.rollback().await.map_err(db)?;
                    return Ok(false);
                }
                Self::put_codes(&mut tx, user_id, codes).await?;
                tx.commit().await.map_err(db)?;
                Ok(true)
            }

            async fn advance_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
                let p = $p;
                let advanced = sqlx::query(&format!(
                    "UPDATE warden_two_factor SET last_step = {} WHERE user_id = {} \
                     AND secret IS NOT NULL AND (last_step IS NULL OR last_step < {})",
                    p(1),
                    p(2),
                    p(1)
                ))
                .bind(step)
                .bind(user_id)
                .execute(&self.0)
                .await
                .map_err(db)?
                .rows_affected();
                Ok(advanced > 0)
            }

            async fn replace_recovery_codes(
                &self,
                user_id: &str,
                codes: &[String],
            ) -> Result<(), StoreError> {
                let mut tx = self.0.begin().await.map_err(db)?;
                Self::put_codes(&mut tx, user_id, codes).await?;
                tx.commit().await.map_err(db)
            }

            async fn use_recovery_code(
                &self,
                user_id: &str,
                code_hash: &str,
            ) -> Result<bool, StoreError> {
                let p = $p;
                let used = sqlx::query(&format!(
                    "DELETE FROM warden_recovery_code WHERE user_id = {} AND code_hash = {}",
                    p(1),
                    p(2)
                ))
                .bind(user_id)
                .bind(code_hash)
                .execute(&self.0)
                .await
                .map_err(db)?
                .rows_affected();
                Ok(used > 0)
            }

            async fn recovery_codes_left(&self, user_id: &str) -> Result<usize, StoreError> {
                let p = $p;
                let (left,): (i64,) = sqlx::query_as(&format!(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM warden_recovery_code WHERE user_id = {}",
                    p(1)
                ))
                .bind(user_id)
                .fetch_one(&self.0)
                .await
                .map_err(db)?;
                Ok(usize::try_from(left).unwrap_or(0))
            }

            async fn set_devices_trusted_after(
                &self,
                user_id: &str,
                at: i64,
            ) -> Result<(), StoreError> {
                let p = $p;
                sqlx::query(&format!(
                    "UPDATE warden_two_factor SET devices_trusted_after = {} \
                     WHERE user_id = {} AND devices_trusted_after < {}",
                    p(1),
                    p(2),
                    p(1)
                ))
                .bind(at)
                .bind(user_id)
                .execute(&self.0)
                .await
                .map_err(db)?;
                Ok(())
            }

            async fn disable(&self, user_id: &str) -> Result<bool, StoreError> {
                let p = $p;
                let mut tx = self.0.begin().await.map_err(db)?;
                let removed: Option<(Option<String>,)> = sqlx::query_as(&format!(
                    "DELETE FROM warden_two_factor WHERE user_id = {} RETURNING secret",
                    p(1)
                ))
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
                Self::put_codes(&mut tx, user_id, &[]).await?;
                tx.commit().await.map_err(db)?;
                Ok(removed.is_some_and(|(secret,)| secret.is_some()))
            }

            async fn forget_user(&self, user_id: &str) -> Result<(), StoreError> {
                let p = $p;
                let mut tx = self.0.begin().await.map_err(db)?;
                for table in ["warden_two_factor", "warden_recovery_code", "warden_mfa_challenge"] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE user_id = {}", p(1)))
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                }
                tx.commit().await.map_err(db)
            }

            async fn open_challenge(&self, c: &MfaChallenge) -> Result<(), StoreError> {
                let p = $p;
                sqlx::query(&format!(
                    "INSERT INTO warden_mfa_challenge ({CHALLENGE_COLUMNS}) \
                     VALUES ({}, {}, {}, {}, {}, {}, {})",
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5),
                    p(6),
                    p(7)
                ))
                .bind(&c.token_hash)
                .bind(&c.user_id)
                .bind(&c.backend)
                .bind(c.amr.join(" "))
                .bind(&c.binding)
                .bind(c.expires_at)
                .bind(i32::try_from(c.tries).unwrap_or(i32::MAX))
                .execute(&self.0)
                .await
                .map_err(db)?;
                Ok(())
            }

            async fn try_challenge(
                &self,
                token_hash: &str,
                now: i64,
                max_tries: u32,
            ) -> Result<Option<MfaChallenge>, StoreError> {
                let p = $p;
                let row: Option<ChallengeRow> = sqlx::query_as(&format!(
                    "UPDATE warden_mfa_challenge SET tries = tries + 1 WHERE token_hash = {} \
                     AND expires_at > {} AND tries < {} RETURNING {CHALLENGE_COLUMNS}",
                    p(1),
                    p(2),
                    p(3)
                ))
                .bind(token_hash)
                .bind(now)
                .bind(i32::try_from(max_tries).unwrap_or(i32::MAX))
                .fetch_optional(&self.0)
                .await
                .map_err(db)?;
                Ok(row.map(challenge))
            }

            async fn take_challenge(&self, token_hash: &str) -> Result<bool, StoreError> {
                let p = $p;
                let taken = sqlx::query(&format!(
                    "DELETE FROM warden_mfa_challenge WHERE token_hash = {}",
                    p(1)
                ))
                .bind(token_hash)
                .execute(&self.0)
                .await
                .map_err(db)?
                .rows_affected();
                Ok(taken > 0)
            }

            async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
                let p = $p;
                Ok(sqlx::query(&format!(
                    "DELETE FROM warden_mfa_challenge WHERE expires_at <= {}",
                    p(1)
                ))
                .bind(now)
                .execute(&self.0)
                .await
                .map_err(db)?
                .rows_affected())
            }
        }
    };
}

/// Numbered, so that a statement may use one value twice (`?1 ... ?1`).
#[cfg(feature = "sqlite")]
fn question(n: usize) -> String {
    format!("?{n}")
}

#[cfg(feature = "sqlite")]
sql_two_factor!(SqliteTwoFactor, sqlx::SqlitePool, sqlx::Sqlite, question);

#[cfg(feature = "postgres")]
fn dollar(n: usize) -> String {
    format!("${n}")
}

#[cfg(feature = "postgres")]
sql_two_factor!(PostgresTwoFactor, sqlx::PgPool, sqlx::Postgres, dollar);
