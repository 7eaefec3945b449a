//! FastAPI Users' `accesstoken` table, as its SQLAlchemy adapter creates it: `token`
//! VARCHAR(43) primary key, `created_at` timezone-aware timestamp (indexed),
//! `user_id` referencing the user with `ON DELETE CASCADE`. SQLite stores the
//! timestamp as SQLAlchemy does, `YYYY-MM-DD HH:MM:SS.ffffff` in UTC.
//!
//! Which login a token belongs to is warden's own data, kept beside it in
//! `warden_access_token_session` (the token's hash → the session id): FastAPI
//! Users' rows keep their shape, and a row it wrote (no mapping) reads as a token
//! of no recorded login.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::StoreError;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use super::{sql::db, token_hash};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::model::IdKind;

/// A stored access token: whose it is, since when, and of which login.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredToken {
    /// The user id, as text.
    pub user_id: String,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// The session of the login it was issued in; `None` for a row FastAPI Users
    /// (or a warden before sessions were recorded per login) wrote.
    pub session: Option<String>,
}

/// The `accesstoken` table of a store.
#[async_trait]
pub trait AccessTokenStore: Send + Sync + 'static {
    /// Stores `token` for the user whose id reads `user_id`, created at `created_at`
    /// (Unix seconds), as a token of the login whose session is `session`: every
    /// token a login's refreshes issue names the same session, so that its end (a
    /// logout of any of them, a reused refresh token) ends them all.
    async fn insert(
        &self,
        token: &str,
        user_id: &str,
        created_at: i64,
        session: &str,
    ) -> Result<(), StoreError>;
    /// `token`, if it was created at `not_before` or later (FastAPI Users'
    /// `max_age`).
    async fn find(
        &self,
        token: &str,
        not_before: Option<i64>,
    ) -> Result<Option<StoredToken>, StoreError>;
    /// Deletes `token`.
    async fn delete(&self, token: &str) -> Result<(), StoreError>;
    /// Ties an existing `token` that has no login recorded (a row FastAPI Users
    /// wrote) to `session`, at `at` (Unix seconds); a token already tied keeps its
    /// login. The default does nothing.
    async fn bind(&self, token: &str, session: &str, at: i64) -> Result<(), StoreError> {
        let _ = (token, session, at);
        Ok(())
    }
    /// Deletes the tokens created before `before` (Unix seconds), and what warden
    /// keeps beside them: FastAPI Users never deletes an expired row. The default
    /// keeps everything.
    async fn purge(&self, before: i64) -> Result<(), StoreError> {
        let _ = before;
        Ok(())
    }
}

/// The table tying warden's access tokens to their login (schema step 3): keyed by
/// the token's hash, so that no second copy of a live token is stored.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) const SESSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS warden_access_token_session (
    hash VARCHAR(64) PRIMARY KEY NOT NULL,
    session_id VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS warden_access_token_session_created
    ON warden_access_token_session (created_at);
";

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
    (
        $name:ident,
        $pool:ty,
        insert: $insert:expr,
        map: $map:expr,
        find: $find:expr,
        delete: $delete:expr,
        unmap: $unmap:expr,
        bind: $bind:expr,
        purge: $purge:expr
    ) => {
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
                session: &str,
            ) -> Result<(), StoreError> {
                // One transaction: no token is ever found without its login.
                let mut tx = self.pool.begin().await.map_err(db)?;
                sqlx::query(($insert)(self.kind))
                    .bind(token)
                    .bind(created_at)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                sqlx::query($map)
                    .bind(token_hash(token))
                    .bind(session)
                    .bind(created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                tx.commit().await.map_err(db)
            }

            async fn find(
                &self,
                token: &str,
                not_before: Option<i64>,
            ) -> Result<Option<StoredToken>, StoreError> {
                let found: Option<(String, i64, Option<String>)> = sqlx::query_as($find)
                    .bind(token)
                    .bind(not_before)
                    .bind(token_hash(token))
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(found.map(|(user_id, created_at, session)| StoredToken {
                    user_id,
                    created_at,
                    session,
                }))
            }

            async fn delete(&self, token: &str) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db)?;
                sqlx::query($delete)
                    .bind(token)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                sqlx::query($unmap)
                    .bind(token_hash(token))
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                tx.commit().await.map_err(db)
            }

            async fn bind(&self, token: &str, session: &str, at: i64) -> Result<(), StoreError> {
                sqlx::query($bind)
                    .bind(token_hash(token))
                    .bind(session)
                    .bind(at)
                    .execute(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(())
            }

            async fn purge(&self, before: i64) -> Result<(), StoreError> {
                // Through `created_at`'s index, in one statement each: no lock is
                // held across them.
                sqlx::query($purge)
                    .bind(before)
                    .execute(&self.pool)
                    .await
                    .map_err(db)?;
                sqlx::query("DELETE FROM warden_access_token_session WHERE created_at < $1")
                    .bind(before)
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
    map: "INSERT INTO warden_access_token_session (hash, session_id, created_at) VALUES (?, ?, ?)",
    find: "SELECT CAST(a.user_id AS TEXT), CAST(strftime('%s', a.created_at) AS INTEGER), \
        m.session_id FROM accesstoken a \
        LEFT JOIN warden_access_token_session m ON m.hash = ?3 WHERE a.token = ?1 \
        AND (?2 IS NULL OR CAST(strftime('%s', a.created_at) AS INTEGER) >= ?2)",
    delete: "DELETE FROM accesstoken WHERE token = ?",
    unmap: "DELETE FROM warden_access_token_session WHERE hash = ?",
    bind: "INSERT INTO warden_access_token_session (hash, session_id, created_at) \
        VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING",
    // SQLAlchemy's text layout sorts as time does: compared as text, the index serves.
    purge: "DELETE FROM accesstoken \
        WHERE created_at < strftime('%Y-%m-%d %H:%M:%f', ?, 'unixepoch') || '000'"
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
    map: "INSERT INTO warden_access_token_session (hash, session_id, created_at) \
        VALUES ($1, $2, $3)",
    find: "SELECT a.user_id::text, floor(extract(epoch FROM a.created_at))::bigint, \
        m.session_id FROM accesstoken a \
        LEFT JOIN warden_access_token_session m ON m.hash = $3 WHERE a.token = $1 \
        AND ($2::bigint IS NULL OR a.created_at >= to_timestamp($2::bigint))",
    delete: "DELETE FROM accesstoken WHERE token = $1",
    unmap: "DELETE FROM warden_access_token_session WHERE hash = $1",
    bind: "INSERT INTO warden_access_token_session (hash, session_id, created_at) \
        VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING",
    purge: "DELETE FROM accesstoken WHERE created_at < to_timestamp($1)"
);

/// `accesstoken` in memory, for the memory store.
#[derive(Debug, Default)]
pub(crate) struct MemoryAccessTokens(Mutex<HashMap<String, StoredToken>>);

impl MemoryAccessTokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, StoredToken>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets the tokens of a deleted user, as the table's `ON DELETE CASCADE` does.
    pub(crate) fn delete_user(&self, user_id: &str) {
        self.lock().retain(|_, token| token.user_id != user_id);
    }
}

#[async_trait]
impl AccessTokenStore for MemoryAccessTokens {
    async fn insert(
        &self,
        token: &str,
        user_id: &str,
        created_at: i64,
        session: &str,
    ) -> Result<(), StoreError> {
        self.lock().insert(
            token.to_owned(),
            StoredToken {
                user_id: user_id.to_owned(),
                created_at,
                session: Some(session.to_owned()),
            },
        );
        Ok(())
    }

    async fn find(
        &self,
        token: &str,
        not_before: Option<i64>,
    ) -> Result<Option<StoredToken>, StoreError> {
        Ok(self
            .lock()
            .get(token)
            .filter(|found| not_before.is_none_or(|limit| found.created_at >= limit))
            .cloned())
    }

    async fn delete(&self, token: &str) -> Result<(), StoreError> {
        self.lock().remove(token);
        Ok(())
    }

    async fn bind(&self, token: &str, session: &str, _at: i64) -> Result<(), StoreError> {
        if let Some(found) = self.lock().get_mut(token) {
            found.session.get_or_insert_with(|| session.to_owned());
        }
        Ok(())
    }

    async fn purge(&self, before: i64) -> Result<(), StoreError> {
        self.lock().retain(|_, token| token.created_at >= before);
        Ok(())
    }
}
