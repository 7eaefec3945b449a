//! PostgreSQL through sqlx, for several application instances on one database:
//! FastAPI Users' `user` table (and the model's extra columns), migrations under an
//! advisory lock, and every change announced on a channel so each instance drops its
//! cached copy of that user.

use std::marker::PhantomData;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgListener, PgPoolOptions};
use sqlx::{Connection, PgPool};
use tokio::sync::mpsc;

use super::sql::{bind, bind_fields, db, decode, sql_store, write_error};
use super::table::{CHANGES_CHANNEL, Dialect, Table, inspection, migration};
use super::{
    FEED_PING_EVERY, FEED_SILENT_AFTER, StoreChange, StoreError, UserStore, redact_url as redact,
};
use crate::model::{FieldValue, UserId, UserModel};
use crate::user::User;

/// Serialises migrations across instances starting at once (any constant works; this
/// one is "warden" in ASCII, truncated).
const MIGRATION_LOCK: i64 = 0x7761_7264_656e;

/// How long a request waits for a connection before it is answered 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Users of model `U` in PostgreSQL, shared by any number of application instances.
///
/// ```no_run
/// # async fn run() -> Result<(), warden_runtime::StoreError> {
/// let store: warden_runtime::PostgresStore =
///     warden_runtime::PostgresStore::open("postgres://warden:secret@localhost/app").await?;
/// # Ok(()) }
/// ```
pub struct PostgresStore<U: UserModel = User> {
    pool: PgPool,
    table: Arc<Table>,
    model: PhantomData<fn() -> U>,
}

impl<U: UserModel> PostgresStore<U> {
    /// Connects to `url` (`postgres://user:password@host:port/database`), then
    /// creates the table or checks the existing one, under an advisory lock.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            StoreError::Database(format!("bad PostgreSQL URL {}: {e}", redact(url)))
        })?;
        Self::connect_with(options, url).await
    }

    /// Connects with options built by hand (`url` names the database in messages).
    pub async fn connect_with(options: PgConnectOptions, url: &str) -> Result<Self, StoreError> {
        // One direct connection first: the pool would only say it timed out, this
        // says why (refused, unknown host, wrong password, no such database).
        let first = tokio::time::timeout(ACQUIRE_TIMEOUT, PgConnection::connect_with(&options))
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)
            .and_then(|connected| connected);
        match first {
            Ok(connection) => {
                let _ = connection.close().await;
            }
            Err(e) => {
                return Err(StoreError::Database(format!(
                    "cannot connect to {}: {e}; check that PostgreSQL runs there and that the user, password and database are right",
                    redact(url)
                )));
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Database(format!(
                    "cannot connect to {}: {e}; check that PostgreSQL runs there and that the user, password and database are right",
                    redact(url)
                ))
            })?;
        Self::from_pool(pool).await
    }

    /// Uses an existing pool: creates the table, or checks the existing one.
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        let table = Table::new::<U>(Dialect::Postgres);
        migrate::<U>(&pool, &table).await?;
        Ok(Self {
            pool,
            table: Arc::new(table),
            model: PhantomData,
        })
    }

    /// What is wrong with the table at `url` for model `U`, without changing
    /// anything (an absent table is one problem).
    pub async fn inspect(url: &str) -> Result<Vec<String>, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            StoreError::Database(format!("bad PostgreSQL URL {}: {e}", redact(url)))
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Database(format!("cannot connect to {}: {e}", redact(url))))?;
        let existing = columns(&pool).await?;
        Ok(inspection::<U>(&existing, Dialect::Postgres))
    }

    /// The underlying pool, for the application's own tables.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Runs an announced write; the number of users it changed.
    async fn write(&self, sql: &str, args: PgArguments) -> Result<usize, StoreError> {
        Ok(sqlx::query_with(sql, args)
            .fetch_all(&self.pool)
            .await
            .map_err(write_error)?
            .len())
    }
}

/// The columns of `user` in the current schema, as `(name, type)`.
async fn columns<'e, E>(executor: E) -> Result<Vec<(String, String)>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = 'user'",
    )
    .fetch_all(executor)
    .await
    .map_err(db)
}

async fn migrate<U: UserModel>(pool: &PgPool, table: &Table) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db)?;
    // Instances that start together take turns: the first creates, the others see.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let existing = columns(&mut *tx).await?;
    sqlx::raw_sql(migration::<U>(table, &existing, Dialect::Postgres)?)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::Database(format!("migrating the user table failed: {e}")))?;
    super::migrate::run_steps!(
        tx,
        true,
        U::Id::KIND,
        "INSERT INTO warden_schema (version) VALUES ($1) ON CONFLICT DO NOTHING"
    );
    tx.commit().await.map_err(db)
}

/// Payloads that start with this are pings, never a change: user ids are UUIDs or
/// integers and session keys are base64url or `user:<id>`, none with this prefix.
const PING_PREFIX: &str = "warden-ping:";

/// Listens on `channel` and forwards what it hears as `change(payload)`; when the
/// connection drops it says so, reconnects with a growing pause, and says when it
/// is back.
///
/// A connection can also die without a word (a dropped network path, a proxy's
/// idle timeout): `try_recv` then waits forever and every end announced meanwhile
/// is missed. So the listener pings its own channel every [`FEED_PING_EVERY`],
/// reports each ping it hears as [`StoreChange::Alive`], and takes a channel that
/// stays silent for [`FEED_SILENT_AFTER`] as lost: it says so and reconnects.
pub(crate) async fn listen(
    pool: PgPool,
    channel: &'static str,
    change: fn(String) -> StoreChange,
    changes: mpsc::UnboundedSender<StoreChange>,
) {
    let mut pause = Duration::from_millis(100);
    let ping = match crate::random::urlsafe::<16>() {
        Ok(nonce) => format!("{PING_PREFIX}{nonce}"),
        Err(error) => {
            tracing::warn!(%error, channel, "cannot name this listener's pings");
            format!("{PING_PREFIX}{}", std::process::id())
        }
    };
    loop {
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(channel).await?;
            Ok::<_, sqlx::Error>(listener)
        }
        .await;
        let mut listener = match listener {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, channel, "cannot listen for changes; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        pause = Duration::from_millis(100);
        if changes.send(StoreChange::Restored).is_err() {
            return;
        }
        let pinger = tokio::spawn(ping_every(pool.clone(), channel, ping.clone()));
        let mut heard = tokio::time::Instant::now();
        loop {
            // Cancelling `try_recv` only ever drops this connection with it.
            let deadline = heard + FEED_SILENT_AFTER;
            match tokio::time::timeout_at(deadline, listener.try_recv()).await {
                Ok(Ok(Some(notification))) => {
                    // Anything heard proves the connection delivers.
                    heard = tokio::time::Instant::now();
                    let payload = notification.payload();
                    let sent = if payload.starts_with(PING_PREFIX) {
                        changes.send(StoreChange::Alive)
                    } else {
                        changes.send(change(payload.to_owned()))
                    };
                    if sent.is_err() {
                        pinger.abort();
                        return;
                    }
                }
                // The connection dropped, or went silent: whatever was announced
                // meanwhile is lost.
                Ok(Ok(None)) | Ok(Err(_)) | Err(_) => {
                    tracing::warn!(
                        channel,
                        "lost the change notifications; the cache is off until they are back"
                    );
                    pinger.abort();
                    if changes.send(StoreChange::Lost).is_err() {
                        return;
                    }
                    break;
                }
            }
        }
    }
}

/// Pings `channel` with `payload` every [`FEED_PING_EVERY`], through the pool
/// (not the listening connection, whose silence is what is measured).
async fn ping_every(pool: PgPool, channel: &'static str, payload: String) {
    let mut every = tokio::time::interval(FEED_PING_EVERY);
    loop {
        every.tick().await;
        if let Err(error) = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(&payload)
            .execute(&pool)
            .await
        {
            tracing::debug!(%error, channel, "could not ping the change channel");
        }
    }
}

sql_store!(PostgresStore, PgArguments, {
    fn shared(&self) -> bool {
        true
    }

    fn changes(&self) -> Option<mpsc::UnboundedReceiver<StoreChange>> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let handle = tokio::runtime::Handle::try_current().ok()?;
        handle.spawn(listen(
            self.pool.clone(),
            CHANGES_CHANNEL,
            StoreChange::User,
            sender,
        ));
        Some(receiver)
    }

    fn counters(&self) -> Option<Arc<dyn super::Counters>> {
        Some(Arc::new(crate::store::counters::sql::PostgresCounters(
            self.pool.clone(),
        )))
    }

    fn sessions(&self) -> Option<Arc<dyn super::SessionStore>> {
        Some(Arc::new(crate::store::sessions::sql::PostgresSessions(
            self.pool.clone(),
        )))
    }

    fn access_tokens(&self) -> Option<Arc<dyn super::AccessTokenStore>> {
        Some(Arc::new(super::access_tokens::PostgresAccessTokens {
            pool: self.pool.clone(),
            kind: U::Id::KIND,
        }))
    }

    fn oauth_accounts(&self) -> Option<Arc<dyn super::OAuthAccountStore>> {
        Some(Arc::new(super::oauth_accounts::PostgresOAuthAccounts {
            pool: self.pool.clone(),
            kind: U::Id::KIND,
        }))
    }

    fn audit(&self) -> Option<Arc<dyn super::AuditStore>> {
        Some(Arc::new(super::audit::PostgresAudit(self.pool.clone())))
    }

    fn two_factor(&self) -> Option<Arc<dyn super::TwoFactorStore>> {
        Some(Arc::new(super::two_factor::sql::PostgresTwoFactor(
            self.pool.clone(),
        )))
    }

    fn bans(&self) -> Option<Arc<dyn super::BanStore>> {
        Some(Arc::new(super::bans::sql::PostgresBans(self.pool.clone())))
    }

    fn passkeys(&self) -> Option<Arc<dyn super::PasskeyStore>> {
        Some(Arc::new(super::passkeys::PostgresPasskeys {
            pool: self.pool.clone(),
            kind: U::Id::KIND,
        }))
    }

    fn api_keys(&self) -> Option<Arc<dyn super::ApiKeyStore>> {
        Some(Arc::new(super::api_keys::PostgresApiKeys {
            pool: self.pool.clone(),
            kind: U::Id::KIND,
        }))
    }
});
