//! Sessions in the store's database: `warden_session`, `warden_refresh_token` and
//! `warden_token_cutoff`, created with the user table. On PostgreSQL every end is
//! announced on the `warden_session` channel, so each instance drops its cached copy
//! at once.

use async_trait::async_trait;
use sqlx::Row;

use super::{RefreshUse, Session, SessionStore};
use crate::store::StoreError;

/// The tables, created with the user table.
pub(crate) const TABLES: &str = "CREATE TABLE IF NOT EXISTS warden_session (
    id VARCHAR(64) PRIMARY KEY NOT NULL,
    user_id VARCHAR(64) NOT NULL,
    backend VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT,
    user_agent VARCHAR(512),
    ended_at BIGINT
);
CREATE INDEX IF NOT EXISTS warden_session_user ON warden_session (user_id);
CREATE TABLE IF NOT EXISTS warden_refresh_token (
    hash VARCHAR(64) PRIMARY KEY NOT NULL,
    session_id VARCHAR(64) NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE TABLE IF NOT EXISTS warden_token_cutoff (
    user_id VARCHAR(64) PRIMARY KEY NOT NULL,
    cutoff BIGINT NOT NULL
);
";

/// The channel PostgreSQL instances announce ended sessions on.
#[cfg(feature = "postgres")]
pub(crate) const CHANNEL: &str = "warden_session";

fn db(error: sqlx::Error) -> StoreError {
    StoreError::Database(error.to_string())
}

const COLUMNS: &str = "id, user_id, backend, created_at, last_used_at, expires_at, user_agent, \
     ended_at, authenticated_at, amr, actor";

/// `amr` as a column keeps it: RFC 8176 values never contain a space.
fn amr_column(amr: &[String]) -> Option<String> {
    (!amr.is_empty()).then(|| amr.join(" "))
}

fn session<R: Row>(row: &R) -> Result<Session, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let created_at: i64 = row.try_get("created_at").map_err(db)?;
    // Rows written before schema step 2 (or by an instance of the previous release
    // during a rolling upgrade) have neither: their last sign-in is the login.
    let authenticated_at: Option<i64> = row.try_get("authenticated_at").map_err(db)?;
    let amr: Option<String> = row.try_get("amr").map_err(db)?;
    Ok(Session {
        authenticated_at: authenticated_at.unwrap_or(created_at),
        amr: amr
            .map(|amr| {
                amr.split(' ')
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        id: row.try_get("id").map_err(db)?,
        user_id: row.try_get("user_id").map_err(db)?,
        backend: row.try_get("backend").map_err(db)?,
        created_at,
        last_used_at: row.try_get("last_used_at").map_err(db)?,
        expires_at: row.try_get("expires_at").map_err(db)?,
        user_agent: row.try_get("user_agent").map_err(db)?,
        ended_at: row.try_get("ended_at").map_err(db)?,
        // NULL before schema step 8, and for every session but an impersonation.
        actor: row.try_get("actor").map_err(db)?,
    })
}

/// `$1`-style placeholders for PostgreSQL, `?` for SQLite.
macro_rules! sql_sessions {
    ($name:ident, $pool:ty, $p:expr, $announced:expr, $notify:expr) => {
        /// Sessions in the store's database.
        #[derive(Debug, Clone)]
        pub(crate) struct $name(pub(crate) $pool);

        #[async_trait]
        impl SessionStore for $name {
            async fn create(&self, s: &Session) -> Result<(), StoreError> {
                let p = $p;
                sqlx::query(&format!(
                    "INSERT INTO warden_session ({COLUMNS}) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                    p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9), p(10), p(11)
                ))
                .bind(&s.id)
                .bind(&s.user_id)
                .bind(&s.backend)
                .bind(s.created_at)
                .bind(s.last_used_at)
                .bind(s.expires_at)
                .bind(&s.user_agent)
                .bind(s.ended_at)
                .bind(s.authenticated_at)
                .bind(amr_column(&s.amr))
                .bind(&s.actor)
                .execute(&self.0)
                .await
                .map_err(db)?;
                Ok(())
            }

            async fn get(&self, id: &str) -> Result<Option<Session>, StoreError> {
                let p = $p;
                sqlx::query(&format!("SELECT {COLUMNS} FROM warden_session WHERE id = {}", p(1)))
                    .bind(id)
                    .fetch_optional(&self.0)
                    .await
                    .map_err(db)?
                    .map(|row| session(&row))
                    .transpose()
            }

            async fn list(&self, user_id: &str, now: i64) -> Result<Vec<Session>, StoreError> {
                let p = $p;
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM warden_session WHERE user_id = {} AND ended_at IS NULL \
                     AND (expires_at IS NULL OR expires_at > {}) ORDER BY created_at DESC, id",
                    p(1),
                    p(2)
                ))
                .bind(user_id)
                .bind(now)
                .fetch_all(&self.0)
                .await
                .map_err(db)?
                .iter()
                .map(session)
                .collect()
            }

            async fn touch(&self, id: &str, at: i64) -> Result<(), StoreError> {
                let p = $p;
                sqlx::query(&format!(
                    "UPDATE warden_session SET last_used_at = {} WHERE id = {} AND last_used_at < {}",
                    p(1),
                    p(2),
                    p(1)
                ))
                .bind(at)
                .bind(id)
                .execute(&self.0)
                .await
                .map_err(db)?;
                Ok(())
            }

            async fn renew(&self, id: &str, at: i64, amr: &[String]) -> Result<bool, StoreError> {
                let p = $p;
                let renewed = sqlx::query(&format!(
                    "UPDATE warden_session SET authenticated_at = {}, amr = {} WHERE id = {} AND ended_at IS NULL",
                    p(1),
                    p(2),
                    p(3)
                ))
                .bind(at)
                .bind(amr_column(amr))
                .bind(id)
                .execute(&self.0)
                .await
                .map_err(db)?
                .rows_affected();
                if renewed > 0 {
                    sqlx::query(&format!(
                        "UPDATE warden_refresh_token SET used_at = {} WHERE session_id = {} AND used_at IS NULL",
                        p(1),
                        p(2)
                    ))
                    .bind(at)
                    .bind(id)
                    .execute(&self.0)
                    .await
                    .map_err(db)?;
                }
                Ok(renewed > 0)
            }

            async fn end(&self, id: &str, at: i64) -> Result<bool, StoreError> {
                let p = $p;
                // One statement ends the session and (on PostgreSQL) announces it:
                // an end is never committed unannounced.
                let ended = sqlx::query(&$announced(&format!(
                    "UPDATE warden_session SET ended_at = {} WHERE id = {} AND ended_at IS NULL",
                    p(1),
                    p(2)
                )))
                .bind(at)
                .bind(id)
                .fetch_all(&self.0)
                .await
                .map_err(db)?
                .len();
                Ok(ended > 0)
            }

            async fn end_user(&self, user_id: &str, at: i64) -> Result<(), StoreError> {
                let p = $p;
                let mut tx = self.0.begin().await.map_err(db)?;
                sqlx::query(&format!(
                    "UPDATE warden_session SET ended_at = {} WHERE user_id = {} AND ended_at IS NULL",
                    p(1),
                    p(2)
                ))
                .bind(at)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                sqlx::query(&format!(
                    "INSERT INTO warden_token_cutoff (user_id, cutoff) VALUES ({}, {}) \
                     ON CONFLICT (user_id) DO UPDATE SET cutoff = CASE \
                     WHEN excluded.cutoff > warden_token_cutoff.cutoff THEN excluded.cutoff \
                     ELSE warden_token_cutoff.cutoff END",
                    p(1),
                    p(2)
                ))
                .bind(user_id)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                // Announced in the transaction that ends them: PostgreSQL delivers
                // it at the commit, and only if the ends commit.
                if let Some(notify) = $notify {
                    sqlx::query(notify)
                        .bind(format!("user:{user_id}"))
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                }
                tx.commit().await.map_err(db)
            }

            async fn cutoff(&self, user_id: &str) -> Result<Option<i64>, StoreError> {
                let p = $p;
                let row: Option<(i64,)> = sqlx::query_as(&format!(
                    "SELECT cutoff FROM warden_token_cutoff WHERE user_id = {}",
                    p(1)
                ))
                .bind(user_id)
                .fetch_optional(&self.0)
                .await
                .map_err(db)?;
                Ok(row.map(|(cutoff,)| cutoff))
            }

            async fn add_refresh(
                &self,
                hash: &str,
                session: &str,
                expires_at: i64,
            ) -> Result<(), StoreError> {
                let p = $p;
                sqlx::query(&format!(
                    "INSERT INTO warden_refresh_token (hash, session_id, expires_at) VALUES ({}, {}, {})",
                    p(1),
                    p(2),
                    p(3)
                ))
                .bind(hash)
                .bind(session)
                .bind(expires_at)
                .execute(&self.0)
                .await
                .map_err(db)?;
                Ok(())
            }

            async fn refresh_session(&self, hash: &str) -> Result<Option<String>, StoreError> {
                let p = $p;
                let row: Option<(String,)> = sqlx::query_as(&format!(
                    "SELECT session_id FROM warden_refresh_token WHERE hash = {}",
                    p(1)
                ))
                .bind(hash)
                .fetch_optional(&self.0)
                .await
                .map_err(db)?;
                Ok(row.map(|(session,)| session))
            }

            async fn use_refresh(&self, hash: &str, at: i64) -> Result<RefreshUse, StoreError> {
                let p = $p;
                // One statement marks it used, so of two concurrent uses exactly one
                // sees it fresh.
                let fresh: Option<(String,)> = sqlx::query_as(&format!(
                    "UPDATE warden_refresh_token SET used_at = {} \
                     WHERE hash = {} AND used_at IS NULL AND expires_at > {} RETURNING session_id",
                    p(1),
                    p(2),
                    p(1)
                ))
                .bind(at)
                .bind(hash)
                .fetch_optional(&self.0)
                .await
                .map_err(db)?;
                if let Some((session,)) = fresh {
                    return Ok(RefreshUse::Fresh { session });
                }
                let used: Option<(String,)> = sqlx::query_as(&format!(
                    "SELECT session_id FROM warden_refresh_token WHERE hash = {} AND used_at IS NOT NULL",
                    p(1)
                ))
                .bind(hash)
                .fetch_optional(&self.0)
                .await
                .map_err(db)?;
                Ok(match used {
                    Some((session,)) => RefreshUse::Reused { session },
                    None => RefreshUse::Unknown,
                })
            }

            async fn purge(&self, before: i64) -> Result<(), StoreError> {
                let p = $p;
                sqlx::query(&format!(
                    "DELETE FROM warden_session WHERE expires_at < {}",
                    p(1)
                ))
                .bind(before)
                .execute(&self.0)
                .await
                .map_err(db)?;
                sqlx::query(&format!(
                    "DELETE FROM warden_refresh_token WHERE expires_at < {}",
                    p(1)
                ))
                .bind(before)
                .execute(&self.0)
                .await
                .map_err(db)?;
                Ok(())
            }

            fn changes(
                &self,
            ) -> Option<tokio::sync::mpsc::UnboundedReceiver<crate::store::StoreChange>> {
                self.feed()
            }
        }
    };
}

/// Numbered, so that a statement may use one value twice (`?1 ... ?1`).
#[cfg(feature = "sqlite")]
fn question(n: usize) -> String {
    format!("?{n}")
}

/// SQLite has no other instance to tell: the statement returns what it ended.
#[cfg(feature = "sqlite")]
fn returning(statement: &str) -> String {
    format!("{statement} RETURNING id")
}

#[cfg(feature = "sqlite")]
sql_sessions!(
    SqliteSessions,
    sqlx::SqlitePool,
    question,
    returning,
    None::<&str>
);

#[cfg(feature = "sqlite")]
impl SqliteSessions {
    /// One SQLite file has one writer process: nothing to follow.
    fn feed(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<crate::store::StoreChange>> {
        None
    }
}

#[cfg(feature = "postgres")]
fn dollar(n: usize) -> String {
    format!("${n}")
}

/// `statement` (an UPDATE of sessions) that also announces each session it ended
/// on [`CHANNEL`], as the user table's writes announce theirs: the announcement
/// goes out exactly when the end commits, never one without the other.
#[cfg(feature = "postgres")]
fn announced(statement: &str) -> String {
    format!("WITH ended AS ({statement} RETURNING id) SELECT pg_notify('{CHANNEL}', id) FROM ended")
}

#[cfg(feature = "postgres")]
sql_sessions!(
    PostgresSessions,
    sqlx::PgPool,
    dollar,
    announced,
    Some("SELECT pg_notify('warden_session', $1)")
);

#[cfg(feature = "postgres")]
impl PostgresSessions {
    fn feed(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<crate::store::StoreChange>> {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        let handle = tokio::runtime::Handle::try_current().ok()?;
        handle.spawn(crate::store::listen(
            self.0.clone(),
            CHANNEL,
            crate::store::StoreChange::Session,
            sender,
        ));
        Some(receiver)
    }
}
