//! API keys (personal access tokens): `warden_api_key`, one row per key, keyed by
//! its public id. The row holds the SHA-256 of the key's secret, never the secret:
//! a read of the database yields no usable key. A revoked key keeps its row (with
//! `revoked_at`), so a use after revocation can be told from a typo and recorded;
//! deleting the user deletes their keys (`ON DELETE CASCADE`).
//!
//! The store is the truth: the API-key strategy reads the row on every request, so
//! a revocation or a deletion holds on every instance at once, with no cache to
//! invalidate.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::StoreError;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use super::sql::db;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::model::IdKind;

/// One API key as stored.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredApiKey {
    /// The public id (base62, the part after `wdn_`): the key's id in the routes.
    pub id: String,
    /// The owner's id, as text.
    pub user_id: String,
    /// The name the user gave it.
    pub name: String,
    /// The SHA-256 of the key's secret, base64url: compared in constant time.
    pub secret_hash: String,
    /// The scopes it was created with.
    pub scopes: Vec<String>,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// When it stops working (Unix seconds); `None`: never.
    pub expires_at: Option<i64>,
    /// When it was last used, to the minute (Unix seconds).
    pub last_used_at: Option<i64>,
    /// When it was revoked (Unix seconds).
    pub revoked_at: Option<i64>,
}

impl std::fmt::Debug for StoredApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredApiKey")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl StoredApiKey {
    /// A key of `user_id` with public id `id` and secret hash `secret_hash`,
    /// created at `created_at`, never expiring, unused.
    ///
    /// ```
    /// use warden_runtime::store::StoredApiKey;
    /// let key = StoredApiKey::new("Ab3dEf6hIj9k", "42", "ci", "aGFzaA", 1_900_000_000);
    /// assert_eq!(key.expires_at, None);
    /// ```
    pub fn new(
        id: impl Into<String>,
        user_id: impl Into<String>,
        name: impl Into<String>,
        secret_hash: impl Into<String>,
        created_at: i64,
    ) -> Self {
        Self {
            id: id.into(),
            user_id: user_id.into(),
            name: name.into(),
            secret_hash: secret_hash.into(),
            scopes: Vec::new(),
            created_at,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
        }
    }

    /// The same key, with `scopes`.
    #[must_use]
    pub fn scoped(mut self, scopes: Vec<String>) -> Self {
        self.scopes = scopes;
        self
    }

    /// The same key, expiring at `at`.
    #[must_use]
    pub fn expiring(mut self, at: Option<i64>) -> Self {
        self.expires_at = at;
        self
    }
}

/// Scopes as one column: space-separated, as OAuth 2.0 writes them (RFC 6749
/// §3.3); a scope name never holds a space.
#[cfg(any(test, feature = "sqlite", feature = "postgres"))]
fn join(scopes: &[String]) -> String {
    scopes.join(" ")
}

#[cfg(any(test, feature = "sqlite", feature = "postgres"))]
fn split(scopes: &str) -> Vec<String> {
    scopes
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Where API keys live, in the user store's database so that every instance sees
/// the same ones.
#[async_trait]
pub trait ApiKeyStore: Send + Sync + 'static {
    /// Stores a new key; [`StoreError::Duplicate`] if its id is taken.
    async fn add(&self, key: &StoredApiKey) -> Result<(), StoreError>;
    /// The key with this public id, revoked or not.
    async fn get(&self, id: &str) -> Result<Option<StoredApiKey>, StoreError>;
    /// The user's keys that are not revoked, oldest first.
    async fn all_of_user(&self, user_id: &str) -> Result<Vec<StoredApiKey>, StoreError>;
    /// Revokes the user's key at `at`; whether it was theirs and live.
    async fn revoke(&self, id: &str, user_id: &str, at: i64) -> Result<bool, StoreError>;
    /// Records a use at `at`.
    async fn touch(&self, id: &str, at: i64) -> Result<(), StoreError>;
}

/// The table, for the migration step (the user id's type as `oauth_account`'s, so
/// deleting a user deletes their keys).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn table(postgres: bool, kind: IdKind) -> String {
    let user_id = match (postgres, kind) {
        (true, IdKind::Uuid) => "UUID",
        (true, IdKind::Integer) => "BIGINT",
        (false, IdKind::Uuid) => "CHAR(36)",
        (false, IdKind::Integer) => "INTEGER",
    };
    format!(
        "CREATE TABLE IF NOT EXISTS warden_api_key (\n    id VARCHAR(32) NOT NULL,\n    user_id {user_id} NOT NULL,\n    name VARCHAR(64) NOT NULL,\n    secret_hash VARCHAR(64) NOT NULL,\n    scopes TEXT NOT NULL,\n    created_at BIGINT NOT NULL,\n    expires_at BIGINT,\n    last_used_at BIGINT,\n    revoked_at BIGINT,\n    PRIMARY KEY (id),\n    FOREIGN KEY(user_id) REFERENCES \"user\" (id) ON DELETE CASCADE\n);\nCREATE INDEX IF NOT EXISTS warden_api_key_user_id ON warden_api_key (user_id);\n"
    )
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
type Row = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn from_row(
    (id, user_id, name, secret_hash, scopes, created_at, expires_at, last_used_at, revoked_at): Row,
) -> StoredApiKey {
    StoredApiKey {
        id,
        user_id,
        name,
        secret_hash,
        scopes: split(&scopes),
        created_at,
        expires_at,
        last_used_at,
        revoked_at,
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn unique(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db_error) if db_error.is_unique_violation() => StoreError::Duplicate,
        _ => db(error),
    }
}

/// The queries of one SQL dialect.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
struct Queries {
    add: fn(IdKind) -> &'static str,
    get: &'static str,
    all_of_user: &'static str,
    revoke: &'static str,
    touch: &'static str,
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! sql_api_keys {
    ($name:ident, $pool:ty, $queries:expr) => {
        /// API keys in the store's database.
        #[derive(Debug, Clone)]
        pub(crate) struct $name {
            pub(crate) pool: $pool,
            pub(crate) kind: IdKind,
        }

        #[async_trait]
        impl ApiKeyStore for $name {
            async fn add(&self, key: &StoredApiKey) -> Result<(), StoreError> {
                sqlx::query(($queries.add)(self.kind))
                    .bind(&key.id)
                    .bind(&key.user_id)
                    .bind(&key.name)
                    .bind(&key.secret_hash)
                    .bind(join(&key.scopes))
                    .bind(key.created_at)
                    .bind(key.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(unique)?;
                Ok(())
            }

            async fn get(&self, id: &str) -> Result<Option<StoredApiKey>, StoreError> {
                let row: Option<Row> = sqlx::query_as($queries.get)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(row.map(from_row))
            }

            async fn all_of_user(&self, user_id: &str) -> Result<Vec<StoredApiKey>, StoreError> {
                let rows: Vec<Row> = sqlx::query_as($queries.all_of_user)
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(rows.into_iter().map(from_row).collect())
            }

            async fn revoke(&self, id: &str, user_id: &str, at: i64) -> Result<bool, StoreError> {
                let done = sqlx::query($queries.revoke)
                    .bind(at)
                    .bind(id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(done.rows_affected() > 0)
            }

            async fn touch(&self, id: &str, at: i64) -> Result<(), StoreError> {
                sqlx::query($queries.touch)
                    .bind(at)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(())
            }
        }
    };
}

#[cfg(feature = "sqlite")]
sql_api_keys!(
    SqliteApiKeys,
    sqlx::SqlitePool,
    Queries {
        add: |_| "INSERT INTO warden_api_key (id, user_id, name, secret_hash, scopes, created_at, \
            expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        get: "SELECT id, CAST(user_id AS TEXT), name, secret_hash, scopes, created_at, \
            expires_at, last_used_at, revoked_at FROM warden_api_key WHERE id = ?",
        all_of_user: "SELECT id, CAST(user_id AS TEXT), name, secret_hash, scopes, created_at, \
            expires_at, last_used_at, revoked_at FROM warden_api_key \
            WHERE CAST(user_id AS TEXT) = ? AND revoked_at IS NULL ORDER BY created_at, id",
        revoke: "UPDATE warden_api_key SET revoked_at = ? WHERE id = ? \
            AND CAST(user_id AS TEXT) = ? AND revoked_at IS NULL",
        touch: "UPDATE warden_api_key SET last_used_at = ? WHERE id = ?",
    }
);

#[cfg(feature = "postgres")]
sql_api_keys!(
    PostgresApiKeys,
    sqlx::PgPool,
    Queries {
        add: |kind| match kind {
            IdKind::Uuid =>
                "INSERT INTO warden_api_key (id, user_id, name, secret_hash, scopes, \
                created_at, expires_at) VALUES ($1, $2::uuid, $3, $4, $5, $6, $7)",
            IdKind::Integer =>
                "INSERT INTO warden_api_key (id, user_id, name, secret_hash, \
                scopes, created_at, expires_at) VALUES ($1, $2::bigint, $3, $4, $5, $6, $7)",
        },
        get: "SELECT id, user_id::text, name, secret_hash, scopes, created_at, expires_at, \
            last_used_at, revoked_at FROM warden_api_key WHERE id = $1",
        all_of_user: "SELECT id, user_id::text, name, secret_hash, scopes, created_at, \
            expires_at, last_used_at, revoked_at FROM warden_api_key \
            WHERE user_id::text = $1 AND revoked_at IS NULL ORDER BY created_at, id",
        revoke: "UPDATE warden_api_key SET revoked_at = $1 WHERE id = $2 \
            AND user_id::text = $3 AND revoked_at IS NULL",
        touch: "UPDATE warden_api_key SET last_used_at = $1 WHERE id = $2",
    }
);

/// API keys in memory, for the memory store.
#[derive(Debug, Default)]
pub(crate) struct MemoryApiKeys(Mutex<HashMap<String, StoredApiKey>>);

impl MemoryApiKeys {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, StoredApiKey>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets a deleted user's keys, as `ON DELETE CASCADE` does.
    pub(crate) fn delete_user(&self, user_id: &str) {
        self.lock().retain(|_, key| key.user_id != user_id);
    }
}

#[async_trait]
impl ApiKeyStore for MemoryApiKeys {
    async fn add(&self, key: &StoredApiKey) -> Result<(), StoreError> {
        let mut keys = self.lock();
        if keys.contains_key(&key.id) {
            return Err(StoreError::Duplicate);
        }
        let mut stored = key.clone();
        stored.last_used_at = None;
        stored.revoked_at = None;
        keys.insert(key.id.clone(), stored);
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<StoredApiKey>, StoreError> {
        Ok(self.lock().get(id).cloned())
    }

    async fn all_of_user(&self, user_id: &str) -> Result<Vec<StoredApiKey>, StoreError> {
        let mut keys: Vec<StoredApiKey> = self
            .lock()
            .values()
            .filter(|key| key.user_id == user_id && key.revoked_at.is_none())
            .cloned()
            .collect();
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }

    async fn revoke(&self, id: &str, user_id: &str, at: i64) -> Result<bool, StoreError> {
        match self.lock().get_mut(id) {
            Some(key) if key.user_id == user_id && key.revoked_at.is_none() => {
                key.revoked_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn touch(&self, id: &str, at: i64) -> Result<(), StoreError> {
        if let Some(key) = self.lock().get_mut(id) {
            key.last_used_at = Some(at);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_api_keys_keep_the_contract() {
        super::super::contract::api_keys(&MemoryApiKeys::default(), "1", "2").await;
    }

    #[test]
    fn scopes_round_trip_through_one_column() {
        let scopes = vec!["reports:read".to_owned(), "reports:write".to_owned()];
        assert_eq!(split(&join(&scopes)), scopes);
        assert!(split("").is_empty());
    }
}
