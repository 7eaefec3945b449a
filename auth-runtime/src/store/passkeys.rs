//! Passkeys (WebAuthn credentials) and their ceremonies: `warden_passkey` (one row
//! per credential, the credential id its primary key, so one credential belongs to
//! one account: WebAuthn Level 3 §7.1 step 26), `warden_passkey_user` (the random
//! user handle each user is known by to authenticators, §14.6.1: never the user's
//! id, which may be a guessable integer) and `warden_passkey_ceremony` (the
//! server-side state of a ceremony in progress, keyed by a hash of its challenge,
//! taken once and atomically so that a challenge works once on any instance).
//!
//! The store keeps the credential as the text the passkey library serialised; it
//! reads none of it, so it compiles without the `passkeys` feature and its tables
//! exist on every build (one schema, whichever features an instance has).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::StoreError;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use super::sql::db;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::model::IdKind;

/// One registered passkey.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredPasskey {
    /// The credential id, base64url without padding: its id in the routes.
    pub id: String,
    /// The owner's id, as text.
    pub user_id: String,
    /// The name the user gave it.
    pub name: String,
    /// The credential (public key, counter, flags) as the passkey library
    /// serialised it.
    pub credential: String,
    /// Whether the authenticator said it is backed up (synced) at its last use.
    pub backed_up: bool,
    /// When it was registered (Unix seconds).
    pub created_at: i64,
    /// When it last signed in (Unix seconds).
    pub last_used_at: Option<i64>,
}

impl std::fmt::Debug for StoredPasskey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredPasskey")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl StoredPasskey {
    /// A passkey of `user_id` with credential id `id`, registered at `created_at`.
    ///
    /// ```
    /// use warden_runtime::store::StoredPasskey;
    /// let passkey = StoredPasskey::new("Y3JlZA", "42", "laptop", "{}", 1_900_000_000);
    /// assert_eq!(passkey.last_used_at, None);
    /// ```
    pub fn new(
        id: impl Into<String>,
        user_id: impl Into<String>,
        name: impl Into<String>,
        credential: impl Into<String>,
        created_at: i64,
    ) -> Self {
        Self {
            id: id.into(),
            user_id: user_id.into(),
            name: name.into(),
            credential: credential.into(),
            backed_up: false,
            created_at,
            last_used_at: None,
        }
    }
}

/// A ceremony in progress: what its finishing request needs, on the server only.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ceremony {
    /// `register`, `login` or `signup`.
    pub kind: String,
    /// The user it is for: the signed-in user adding a passkey, the user whose
    /// passkeys a login offered; `None` for a discoverable login or a decoy.
    pub user_id: Option<String>,
    /// The library's ceremony state (and what a sign-up registers), serialised.
    pub state: String,
    /// When it stops being accepted (Unix seconds).
    pub expires_at: i64,
}

impl std::fmt::Debug for Ceremony {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ceremony")
            .field("kind", &self.kind)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Ceremony {
    /// A ceremony of `kind` for `user_id`, holding `state`, until `expires_at`.
    ///
    /// ```
    /// use warden_runtime::store::Ceremony;
    /// let ceremony = Ceremony::new("login", None, "{}", 1_900_000_300);
    /// assert_eq!(ceremony.kind, "login");
    /// ```
    pub fn new(
        kind: impl Into<String>,
        user_id: Option<String>,
        state: impl Into<String>,
        expires_at: i64,
    ) -> Self {
        Self {
            kind: kind.into(),
            user_id,
            state: state.into(),
            expires_at,
        }
    }
}

/// Where passkeys, user handles and ceremonies live, in the user store's database
/// so that every instance sees the same ones.
#[async_trait]
pub trait PasskeyStore: Send + Sync + 'static {
    /// The user's WebAuthn user handle, if they have one.
    async fn handle(&self, user_id: &str) -> Result<Option<String>, StoreError>;
    /// Gives the user `handle` unless they have one already; the handle they have
    /// afterwards (a concurrent request's may have come first).
    async fn claim_handle(&self, user_id: &str, handle: &str) -> Result<String, StoreError>;
    /// The user a handle belongs to.
    async fn user_of_handle(&self, handle: &str) -> Result<Option<String>, StoreError>;
    /// Stores a new passkey; [`StoreError::Duplicate`] if its credential id is
    /// registered already (to anyone), decided by the unique index.
    async fn add(&self, passkey: &StoredPasskey) -> Result<(), StoreError>;
    /// The passkey with this credential id.
    async fn get(&self, id: &str) -> Result<Option<StoredPasskey>, StoreError>;
    /// The user's passkeys, oldest first.
    async fn all_of_user(&self, user_id: &str) -> Result<Vec<StoredPasskey>, StoreError>;
    /// Records a sign-in with the passkey: its credential becomes `credential`
    /// (counter, backup state) only if it is still `previous` (a concurrent use
    /// came first otherwise: `false`, nothing written).
    async fn used(
        &self,
        id: &str,
        previous: &str,
        credential: &str,
        backed_up: bool,
        at: i64,
    ) -> Result<bool, StoreError>;
    /// Renames the user's passkey; whether it is theirs.
    async fn rename(&self, id: &str, user_id: &str, name: &str) -> Result<bool, StoreError>;
    /// Deletes the user's passkey; whether it was theirs.
    async fn remove(&self, id: &str, user_id: &str) -> Result<bool, StoreError>;
    /// Records a ceremony under `key` (a hash of its challenge), forgetting those
    /// expired before `now`.
    async fn begin(&self, key: &str, ceremony: &Ceremony, now: i64) -> Result<(), StoreError>;
    /// Takes the ceremony under `key`: it is gone for every other request, so a
    /// challenge finishes at most one ceremony. Expired ones are returned too; the
    /// caller refuses them.
    async fn take(&self, key: &str) -> Result<Option<Ceremony>, StoreError>;
}

/// The tables, for the migration step (the user id's type as `oauth_account`'s, so
/// deleting a user deletes their passkeys and handle).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn tables(postgres: bool, kind: IdKind) -> String {
    let user_id = match (postgres, kind) {
        (true, IdKind::Uuid) => "UUID",
        (true, IdKind::Integer) => "BIGINT",
        (false, IdKind::Uuid) => "CHAR(36)",
        (false, IdKind::Integer) => "INTEGER",
    };
    format!(
        "CREATE TABLE IF NOT EXISTS warden_passkey (\n    credential_id VARCHAR(1400) NOT NULL,\n    user_id {user_id} NOT NULL,\n    name VARCHAR(64) NOT NULL,\n    credential TEXT NOT NULL,\n    backed_up BOOLEAN NOT NULL,\n    created_at BIGINT NOT NULL,\n    last_used_at BIGINT,\n    PRIMARY KEY (credential_id),\n    FOREIGN KEY(user_id) REFERENCES \"user\" (id) ON DELETE CASCADE\n);\nCREATE INDEX IF NOT EXISTS warden_passkey_user_id ON warden_passkey (user_id);\nCREATE TABLE IF NOT EXISTS warden_passkey_user (\n    user_id {user_id} NOT NULL,\n    handle VARCHAR(36) NOT NULL,\n    PRIMARY KEY (user_id),\n    FOREIGN KEY(user_id) REFERENCES \"user\" (id) ON DELETE CASCADE\n);\nCREATE UNIQUE INDEX IF NOT EXISTS warden_passkey_user_handle ON warden_passkey_user (handle);\nCREATE TABLE IF NOT EXISTS warden_passkey_ceremony (\n    id VARCHAR(64) NOT NULL,\n    kind VARCHAR(16) NOT NULL,\n    user_id VARCHAR(64),\n    state TEXT NOT NULL,\n    expires_at BIGINT NOT NULL,\n    PRIMARY KEY (id)\n);\nCREATE INDEX IF NOT EXISTS warden_passkey_ceremony_expiry ON warden_passkey_ceremony (expires_at);\n"
    )
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
type Row = (String, String, String, String, bool, i64, Option<i64>);

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn from_row(
    (id, user_id, name, credential, backed_up, created_at, last_used_at): Row,
) -> StoredPasskey {
    StoredPasskey {
        id,
        user_id,
        name,
        credential,
        backed_up,
        created_at,
        last_used_at,
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
    handle: &'static str,
    claim_handle: fn(IdKind) -> &'static str,
    user_of_handle: &'static str,
    add: fn(IdKind) -> &'static str,
    get: &'static str,
    all_of_user: &'static str,
    used: &'static str,
    rename: &'static str,
    remove: &'static str,
    purge: &'static str,
    begin: &'static str,
    take: &'static str,
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! sql_passkeys {
    ($name:ident, $pool:ty, $queries:expr) => {
        /// Passkeys in the store's database.
        #[derive(Debug, Clone)]
        pub(crate) struct $name {
            pub(crate) pool: $pool,
            pub(crate) kind: IdKind,
        }

        #[async_trait]
        impl PasskeyStore for $name {
            async fn handle(&self, user_id: &str) -> Result<Option<String>, StoreError> {
                sqlx::query_scalar($queries.handle)
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db)
            }

            async fn claim_handle(
                &self,
                user_id: &str,
                handle: &str,
            ) -> Result<String, StoreError> {
                // Inserted unless the user has one: of two concurrent claims the
                // primary key keeps the first, and both read it back.
                sqlx::query(($queries.claim_handle)(self.kind))
                    .bind(user_id)
                    .bind(handle)
                    .execute(&self.pool)
                    .await
                    .map_err(db)?;
                self.handle(user_id).await?.ok_or(StoreError::NotFound)
            }

            async fn user_of_handle(&self, handle: &str) -> Result<Option<String>, StoreError> {
                sqlx::query_scalar($queries.user_of_handle)
                    .bind(handle)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db)
            }

            async fn add(&self, passkey: &StoredPasskey) -> Result<(), StoreError> {
                sqlx::query(($queries.add)(self.kind))
                    .bind(&passkey.id)
                    .bind(&passkey.user_id)
                    .bind(&passkey.name)
                    .bind(&passkey.credential)
                    .bind(passkey.backed_up)
                    .bind(passkey.created_at)
                    .bind(passkey.last_used_at)
                    .execute(&self.pool)
                    .await
                    .map_err(unique)?;
                Ok(())
            }

            async fn get(&self, id: &str) -> Result<Option<StoredPasskey>, StoreError> {
                let row: Option<Row> = sqlx::query_as($queries.get)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(row.map(from_row))
            }

            async fn all_of_user(&self, user_id: &str) -> Result<Vec<StoredPasskey>, StoreError> {
                let rows: Vec<Row> = sqlx::query_as($queries.all_of_user)
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(rows.into_iter().map(from_row).collect())
            }

            async fn used(
                &self,
                id: &str,
                previous: &str,
                credential: &str,
                backed_up: bool,
                at: i64,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query($queries.used)
                    .bind(credential)
                    .bind(backed_up)
                    .bind(at)
                    .bind(id)
                    .bind(previous)
                    .execute(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(done.rows_affected() > 0)
            }

            async fn rename(
                &self,
                id: &str,
                user_id: &str,
                name: &str,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query($queries.rename)
                    .bind(name)
                    .bind(id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(done.rows_affected() > 0)
            }

            async fn remove(&self, id: &str, user_id: &str) -> Result<bool, StoreError> {
                let done = sqlx::query($queries.remove)
                    .bind(id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(done.rows_affected() > 0)
            }

            async fn begin(
                &self,
                key: &str,
                ceremony: &Ceremony,
                now: i64,
            ) -> Result<(), StoreError> {
                // Abandoned ceremonies go as new ones come: the table holds about
                // five minutes' worth (indexed by expiry).
                sqlx::query($queries.purge)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(db)?;
                sqlx::query($queries.begin)
                    .bind(key)
                    .bind(&ceremony.kind)
                    .bind(&ceremony.user_id)
                    .bind(&ceremony.state)
                    .bind(ceremony.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(unique)?;
                Ok(())
            }

            async fn take(&self, key: &str) -> Result<Option<Ceremony>, StoreError> {
                // One statement: of two requests presenting one challenge, one
                // deletes the row and gets it, the other gets nothing.
                let row: Option<(String, Option<String>, String, i64)> =
                    sqlx::query_as($queries.take)
                        .bind(key)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db)?;
                Ok(row.map(|(kind, user_id, state, expires_at)| Ceremony {
                    kind,
                    user_id,
                    state,
                    expires_at,
                }))
            }
        }
    };
}

#[cfg(feature = "sqlite")]
sql_passkeys!(
    SqlitePasskeys,
    sqlx::SqlitePool,
    Queries {
        handle: "SELECT handle FROM warden_passkey_user WHERE CAST(user_id AS TEXT) = ?",
        claim_handle: |_| "INSERT INTO warden_passkey_user (user_id, handle) VALUES (?, ?) \
            ON CONFLICT (user_id) DO NOTHING",
        user_of_handle: "SELECT CAST(user_id AS TEXT) FROM warden_passkey_user WHERE handle = ?",
        add: |_| "INSERT INTO warden_passkey (credential_id, user_id, name, credential, backed_up, \
            created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        get: const_format_sqlite::GET,
        all_of_user: const_format_sqlite::ALL,
        used: "UPDATE warden_passkey SET credential = ?, backed_up = ?, last_used_at = ? \
            WHERE credential_id = ? AND credential = ?",
        rename: "UPDATE warden_passkey SET name = ? WHERE credential_id = ? \
            AND CAST(user_id AS TEXT) = ?",
        remove: "DELETE FROM warden_passkey WHERE credential_id = ? AND CAST(user_id AS TEXT) = ?",
        purge: "DELETE FROM warden_passkey_ceremony WHERE expires_at < ?",
        begin: "INSERT INTO warden_passkey_ceremony (id, kind, user_id, state, expires_at) \
            VALUES (?, ?, ?, ?, ?)",
        take: "DELETE FROM warden_passkey_ceremony WHERE id = ? \
            RETURNING kind, user_id, state, expires_at",
    }
);

/// The SQLite selects, spelled once with their columns.
#[cfg(feature = "sqlite")]
mod const_format_sqlite {
    pub(super) const GET: &str = "SELECT credential_id, CAST(user_id AS TEXT), name, credential, \
        backed_up, created_at, last_used_at FROM warden_passkey WHERE credential_id = ?";
    pub(super) const ALL: &str = "SELECT credential_id, CAST(user_id AS TEXT), name, credential, \
        backed_up, created_at, last_used_at FROM warden_passkey WHERE CAST(user_id AS TEXT) = ? \
        ORDER BY created_at, credential_id";
}

#[cfg(feature = "postgres")]
sql_passkeys!(
    PostgresPasskeys,
    sqlx::PgPool,
    Queries {
        handle: "SELECT handle FROM warden_passkey_user WHERE user_id::text = $1",
        claim_handle: |kind| match kind {
            IdKind::Uuid =>
                "INSERT INTO warden_passkey_user (user_id, handle) \
                VALUES ($1::uuid, $2) ON CONFLICT (user_id) DO NOTHING",
            IdKind::Integer =>
                "INSERT INTO warden_passkey_user (user_id, handle) \
                VALUES ($1::bigint, $2) ON CONFLICT (user_id) DO NOTHING",
        },
        user_of_handle: "SELECT user_id::text FROM warden_passkey_user WHERE handle = $1",
        add: |kind| match kind {
            IdKind::Uuid =>
                "INSERT INTO warden_passkey (credential_id, user_id, name, credential, \
                backed_up, created_at, last_used_at) VALUES ($1, $2::uuid, $3, $4, $5, $6, $7)",
            IdKind::Integer =>
                "INSERT INTO warden_passkey (credential_id, user_id, name, \
                credential, backed_up, created_at, last_used_at) \
                VALUES ($1, $2::bigint, $3, $4, $5, $6, $7)",
        },
        get: "SELECT credential_id, user_id::text, name, credential, backed_up, created_at, \
            last_used_at FROM warden_passkey WHERE credential_id = $1",
        all_of_user: "SELECT credential_id, user_id::text, name, credential, backed_up, \
            created_at, last_used_at FROM warden_passkey WHERE user_id::text = $1 \
            ORDER BY created_at, credential_id",
        used: "UPDATE warden_passkey SET credential = $1, backed_up = $2, last_used_at = $3 \
            WHERE credential_id = $4 AND credential = $5",
        rename: "UPDATE warden_passkey SET name = $1 WHERE credential_id = $2 \
            AND user_id::text = $3",
        remove: "DELETE FROM warden_passkey WHERE credential_id = $1 AND user_id::text = $2",
        purge: "DELETE FROM warden_passkey_ceremony WHERE expires_at < $1",
        begin: "INSERT INTO warden_passkey_ceremony (id, kind, user_id, state, expires_at) \
            VALUES ($1, $2, $3, $4, $5)",
        take: "DELETE FROM warden_passkey_ceremony WHERE id = $1 \
            RETURNING kind, user_id, state, expires_at",
    }
);

/// Passkeys in memory, for the memory store.
#[derive(Debug, Default)]
pub(crate) struct MemoryPasskeys(Mutex<Memory>);

#[derive(Debug, Default)]
struct Memory {
    passkeys: HashMap<String, StoredPasskey>,
    /// User id to handle.
    handles: HashMap<String, String>,
    ceremonies: HashMap<String, Ceremony>,
}

impl MemoryPasskeys {
    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets a deleted user's passkeys and handle, as `ON DELETE CASCADE` does.
    pub(crate) fn delete_user(&self, user_id: &str) {
        let mut memory = self.lock();
        memory
            .passkeys
            .retain(|_, passkey| passkey.user_id != user_id);
        memory.handles.remove(user_id);
    }
}

#[async_trait]
impl PasskeyStore for MemoryPasskeys {
    async fn handle(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.lock().handles.get(user_id).cloned())
    }

    async fn claim_handle(&self, user_id: &str, handle: &str) -> Result<String, StoreError> {
        Ok(self
            .lock()
            .handles
            .entry(user_id.to_owned())
            .or_insert_with(|| handle.to_owned())
            .clone())
    }

    async fn user_of_handle(&self, handle: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .handles
            .iter()
            .find(|(_, known)| known.as_str() == handle)
            .map(|(user, _)| user.clone()))
    }

    async fn add(&self, passkey: &StoredPasskey) -> Result<(), StoreError> {
        let mut memory = self.lock();
        if memory.passkeys.contains_key(&passkey.id) {
            return Err(StoreError::Duplicate);
        }
        memory.passkeys.insert(passkey.id.clone(), passkey.clone());
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<StoredPasskey>, StoreError> {
        Ok(self.lock().passkeys.get(id).cloned())
    }

    async fn all_of_user(&self, user_id: &str) -> Result<Vec<StoredPasskey>, StoreError> {
        let mut passkeys: Vec<StoredPasskey> = self
            .lock()
            .passkeys
            .values()
            .filter(|passkey| passkey.user_id == user_id)
            .cloned()
            .collect();
        passkeys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(passkeys)
    }

    async fn used(
        &self,
        id: &str,
        previous: &str,
        credential: &str,
        backed_up: bool,
        at: i64,
    ) -> Result<bool, StoreError> {
        let mut memory = self.lock();
        match memory.passkeys.get_mut(id) {
            Some(passkey) if passkey.credential == previous => {
                credential.clone_into(&mut passkey.credential);
                passkey.backed_up = backed_up;
                passkey.last_used_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn rename(&self, id: &str, user_id: &str, name: &str) -> Result<bool, StoreError> {
        match self.lock().passkeys.get_mut(id) {
            Some(passkey) if passkey.user_id == user_id => {
                name.clone_into(&mut passkey.name);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn remove(&self, id: &str, user_id: &str) -> Result<bool, StoreError> {
        let mut memory = self.lock();
        if memory
            .passkeys
            .get(id)
            .is_some_and(|passkey| passkey.user_id == user_id)
        {
            memory.passkeys.remove(id);
            return Ok(true);
        }
        Ok(false)
    }

    async fn begin(&self, key: &str, ceremony: &Ceremony, now: i64) -> Result<(), StoreError> {
        let mut memory = self.lock();
        memory
            .ceremonies
            .retain(|_, ceremony| ceremony.expires_at >= now);
        if memory.ceremonies.contains_key(key) {
            return Err(StoreError::Duplicate);
        }
        memory.ceremonies.insert(key.to_owned(), ceremony.clone());
        Ok(())
    }

    async fn take(&self, key: &str) -> Result<Option<Ceremony>, StoreError> {
        Ok(self.lock().ceremonies.remove(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_passkeys_keep_the_contract() {
        super::super::contract::passkeys(&MemoryPasskeys::default(), "1", "2").await;
    }
}
