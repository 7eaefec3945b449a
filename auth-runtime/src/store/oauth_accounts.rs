//! FastAPI Users' `oauth_account` table (SQLAlchemy's `SQLAlchemyBaseOAuthAccountTable`
//! layout: `id`, `oauth_name`, `access_token`, `expires_at`, `refresh_token`,
//! `account_id`, `account_email`, `user_id` with `ON DELETE CASCADE`), so a FastAPI
//! Users database's linked accounts keep working, plus what it lacks: a unique index
//! on `(oauth_name, account_id)`, so one provider account belongs to one user.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::StoreError;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use super::sql::db;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::model::IdKind;

/// A provider account linked to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthAccount {
    /// The client's name (`oauth_name`).
    pub oauth_name: String,
    /// The provider's id of the account (`sub`).
    pub account_id: String,
    /// The e-mail the provider gave.
    pub account_email: String,
    /// The local user's id, as text.
    pub user_id: String,
    /// The provider's access token as stored: sealed, or `""` when not kept.
    pub access_token: String,
    /// The provider's refresh token as stored (sealed), if kept.
    pub refresh_token: Option<String>,
    /// When the access token expires (Unix seconds), if known.
    pub expires_at: Option<i64>,
}

impl OAuthAccount {
    /// A link of provider account `account_id` at `oauth_name` to `user_id`.
    pub fn new(
        oauth_name: impl Into<String>,
        account_id: impl Into<String>,
        account_email: impl Into<String>,
        user_id: impl Into<String>,
    ) -> Self {
        Self {
            oauth_name: oauth_name.into(),
            account_id: account_id.into(),
            account_email: account_email.into(),
            user_id: user_id.into(),
            access_token: String::new(),
            refresh_token: None,
            expires_at: None,
        }
    }

    /// With the provider's tokens as stored.
    pub fn tokens(
        mut self,
        access_token: String,
        refresh_token: Option<String>,
        expires_at: Option<i64>,
    ) -> Self {
        self.access_token = access_token;
        self.refresh_token = refresh_token;
        self.expires_at = expires_at;
        self
    }
}

/// Where linked provider accounts live.
#[async_trait]
pub trait OAuthAccountStore: Send + Sync + 'static {
    /// The user linked to this provider account.
    async fn user_of(
        &self,
        oauth_name: &str,
        account_id: &str,
    ) -> Result<Option<String>, StoreError>;
    /// Links an account; [`StoreError::Duplicate`] if it is linked already (to
    /// anyone), decided by the unique index.
    async fn link(&self, account: &OAuthAccount) -> Result<(), StoreError>;
    /// Records what the provider gives now: e-mail and tokens of the account.
    async fn update(&self, account: &OAuthAccount) -> Result<(), StoreError>;
    /// The user's account at the provider `oauth_name`, if linked.
    async fn of_user(
        &self,
        oauth_name: &str,
        user_id: &str,
    ) -> Result<Option<OAuthAccount>, StoreError>;
    /// Every provider account linked to the user, by provider and account id.
    async fn all_of_user(&self, user_id: &str) -> Result<Vec<OAuthAccount>, StoreError>;
    /// Unlinks the provider account `account_id` at `oauth_name` if it is the
    /// user's; whether it was.
    async fn unlink(
        &self,
        oauth_name: &str,
        account_id: &str,
        user_id: &str,
    ) -> Result<bool, StoreError>;
}

/// An `oauth_account` row as the SQL stores read it.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
);

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn from_row(
    (oauth_name, account_id, account_email, user_id, access, refresh, expires): Row,
) -> OAuthAccount {
    OAuthAccount::new(oauth_name, account_id, account_email, user_id)
        .tokens(access, refresh, expires)
}

/// The table, its indexes, and the unique index warden adds.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn table(postgres: bool, kind: IdKind) -> String {
    let (id, user_id) = match (postgres, kind) {
        (true, IdKind::Uuid) => ("UUID", "UUID"),
        (true, IdKind::Integer) => ("UUID", "BIGINT"),
        (false, IdKind::Uuid) => ("CHAR(36)", "CHAR(36)"),
        (false, IdKind::Integer) => ("CHAR(36)", "INTEGER"),
    };
    format!(
        "CREATE TABLE IF NOT EXISTS oauth_account (\n    id {id} NOT NULL,\n    oauth_name VARCHAR(100) NOT NULL,\n    access_token VARCHAR(1024) NOT NULL,\n    expires_at INTEGER,\n    refresh_token VARCHAR(1024),\n    account_id VARCHAR(320) NOT NULL,\n    account_email VARCHAR(320) NOT NULL,\n    user_id {user_id} NOT NULL,\n    PRIMARY KEY (id),\n    FOREIGN KEY(user_id) REFERENCES \"user\" (id) ON DELETE CASCADE\n);\nCREATE INDEX IF NOT EXISTS ix_oauth_account_oauth_name ON oauth_account (oauth_name);\nCREATE INDEX IF NOT EXISTS ix_oauth_account_account_id ON oauth_account (account_id);\nCREATE UNIQUE INDEX IF NOT EXISTS warden_oauth_account_unique ON oauth_account (oauth_name, account_id);\n"
    )
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn link_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db_error) if db_error.is_unique_violation() => StoreError::Duplicate,
        _ => db(error),
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! sql_oauth_accounts {
    ($name:ident, $pool:ty, user_of: $user_of:expr, link: $link:expr, update: $update:expr, of_user: $of_user:expr, all_of_user: $all_of_user:expr, unlink: $unlink:expr) => {
        /// `oauth_account` in the store's database.
        #[derive(Debug, Clone)]
        pub(crate) struct $name {
            pub(crate) pool: $pool,
            pub(crate) kind: IdKind,
        }

        #[async_trait]
        impl OAuthAccountStore for $name {
            async fn user_of(
                &self,
                oauth_name: &str,
                account_id: &str,
            ) -> Result<Option<String>, StoreError> {
                sqlx::query_scalar($user_of)
                    .bind(oauth_name)
                    .bind(account_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db)
            }

            async fn link(&self, account: &OAuthAccount) -> Result<(), StoreError> {
                sqlx::query(($link)(self.kind))
                    .bind(uuid::Uuid::new_v4().to_string())
                    .bind(&account.oauth_name)
                    .bind(&account.account_id)
                    .bind(&account.account_email)
                    .bind(&account.user_id)
                    .bind(&account.access_token)
                    .bind(&account.refresh_token)
                    .bind(account.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(link_error)?;
                Ok(())
            }

            async fn update(&self, account: &OAuthAccount) -> Result<(), StoreError> {
                sqlx::query($update)
                    .bind(&account.account_email)
                    .bind(&account.access_token)
                    .bind(&account.refresh_token)
                    .bind(account.expires_at)
                    .bind(&account.oauth_name)
                    .bind(&account.account_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(())
            }

            async fn of_user(
                &self,
                oauth_name: &str,
                user_id: &str,
            ) -> Result<Option<OAuthAccount>, StoreError> {
                let row: Option<Row> = sqlx::query_as($of_user)
                    .bind(oauth_name)
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(row.map(from_row))
            }

            async fn all_of_user(&self, user_id: &str) -> Result<Vec<OAuthAccount>, StoreError> {
                let rows: Vec<Row> = sqlx::query_as($all_of_user)
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(rows.into_iter().map(from_row).collect())
            }

            async fn unlink(
                &self,
                oauth_name: &str,
                account_id: &str,
                user_id: &str,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query($unlink)
                    .bind(oauth_name)
                    .bind(account_id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}

#[cfg(feature = "sqlite")]
sql_oauth_accounts!(
    SqliteOAuthAccounts,
    sqlx::SqlitePool,
    user_of: "SELECT CAST(user_id AS TEXT) FROM oauth_account WHERE oauth_name = ? AND account_id = ?",
    link: |_: IdKind| "INSERT INTO oauth_account \
        (id, oauth_name, account_id, account_email, user_id, access_token, refresh_token, expires_at) \
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    update: "UPDATE oauth_account SET account_email = ?, access_token = ?, refresh_token = ?, \
        expires_at = ? WHERE oauth_name = ? AND account_id = ?",
    of_user: "SELECT oauth_name, account_id, account_email, CAST(user_id AS TEXT), access_token, \
        refresh_token, expires_at FROM oauth_account WHERE oauth_name = ? AND CAST(user_id AS TEXT) = ? \
        LIMIT 1",
    all_of_user: "SELECT oauth_name, account_id, account_email, CAST(user_id AS TEXT), access_token, \
        refresh_token, expires_at FROM oauth_account WHERE CAST(user_id AS TEXT) = ? \
        ORDER BY oauth_name, account_id",
    unlink: "DELETE FROM oauth_account WHERE oauth_name = ? AND account_id = ? \
        AND CAST(user_id AS TEXT) = ?"
);

#[cfg(feature = "postgres")]
sql_oauth_accounts!(
    PostgresOAuthAccounts,
    sqlx::PgPool,
    user_of: "SELECT user_id::text FROM oauth_account WHERE oauth_name = $1 AND account_id = $2",
    link: |kind| match kind {
        IdKind::Uuid => "INSERT INTO oauth_account \
            (id, oauth_name, account_id, account_email, user_id, access_token, refresh_token, expires_at) \
            VALUES ($1::uuid, $2, $3, $4, $5::uuid, $6, $7, $8)",
        IdKind::Integer => "INSERT INTO oauth_account \
            (id, oauth_name, account_id, account_email, user_id, access_token, refresh_token, expires_at) \
            VALUES ($1::uuid, $2, $3, $4, $5::bigint, $6, $7, $8)",
    },
    update: "UPDATE oauth_account SET account_email = $1, access_token = $2, refresh_token = $3, \
        expires_at = $4 WHERE oauth_name = $5 AND account_id = $6",
    of_user: "SELECT oauth_name, account_id, account_email, user_id::text, access_token, \
        refresh_token, expires_at::bigint FROM oauth_account WHERE oauth_name = $1 \
        AND user_id::text = $2 LIMIT 1",
    all_of_user: "SELECT oauth_name, account_id, account_email, user_id::text, access_token, \
        refresh_token, expires_at::bigint FROM oauth_account WHERE user_id::text = $1 \
        ORDER BY oauth_name, account_id",
    unlink: "DELETE FROM oauth_account WHERE oauth_name = $1 AND account_id = $2 \
        AND user_id::text = $3"
);

/// `oauth_account` in memory, for the memory store.
#[derive(Debug, Default)]
pub(crate) struct MemoryOAuthAccounts(Mutex<HashMap<(String, String), OAuthAccount>>);

impl MemoryOAuthAccounts {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), OAuthAccount>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets a deleted user's links, as `ON DELETE CASCADE` does.
    pub(crate) fn delete_user(&self, user_id: &str) {
        self.lock().retain(|_, account| account.user_id != user_id);
    }
}

#[async_trait]
impl OAuthAccountStore for MemoryOAuthAccounts {
    async fn user_of(
        &self,
        oauth_name: &str,
        account_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .get(&(oauth_name.to_owned(), account_id.to_owned()))
            .map(|account| account.user_id.clone()))
    }

    async fn link(&self, account: &OAuthAccount) -> Result<(), StoreError> {
        let key = (account.oauth_name.clone(), account.account_id.clone());
        let mut accounts = self.lock();
        if accounts.contains_key(&key) {
            return Err(StoreError::Duplicate);
        }
        accounts.insert(key, account.clone());
        Ok(())
    }

    async fn update(&self, account: &OAuthAccount) -> Result<(), StoreError> {
        if let Some(stored) = self
            .lock()
            .get_mut(&(account.oauth_name.clone(), account.account_id.clone()))
        {
            *stored = OAuthAccount {
                user_id: stored.user_id.clone(),
                ..account.clone()
            };
        }
        Ok(())
    }

    async fn of_user(
        &self,
        oauth_name: &str,
        user_id: &str,
    ) -> Result<Option<OAuthAccount>, StoreError> {
        Ok(self
            .lock()
            .values()
            .find(|account| account.oauth_name == oauth_name && account.user_id == user_id)
            .cloned())
    }

    async fn all_of_user(&self, user_id: &str) -> Result<Vec<OAuthAccount>, StoreError> {
        let mut accounts: Vec<OAuthAccount> = self
            .lock()
            .values()
            .filter(|account| account.user_id == user_id)
            .cloned()
            .collect();
        accounts
            .sort_by(|a, b| (&a.oauth_name, &a.account_id).cmp(&(&b.oauth_name, &b.account_id)));
        Ok(accounts)
    }

    async fn unlink(
        &self,
        oauth_name: &str,
        account_id: &str,
        user_id: &str,
    ) -> Result<bool, StoreError> {
        let mut accounts = self.lock();
        let key = (oauth_name.to_owned(), account_id.to_owned());
        if accounts
            .get(&key)
            .is_some_and(|account| account.user_id == user_id)
        {
            accounts.remove(&key);
            return Ok(true);
        }
        Ok(false)
    }
}
