//! The audit trail as stored: security events that name a user, in memory
//! ([`MemoryAudit`]) or in the store's database (`warden_security_event`, one schema
//! step), read back newest first per user and purged after the application's
//! retention age. Opt-in (`WardenBuilder::audit_trail`): the rows are personal data
//! (client addresses, user agents, e-mail addresses in the event's JSON).
//!
//! User ids are text, as in `warden_session`, so one table serves UUID and integer
//! ids alike. Ids only grow, so `before` pages through a user's events without the
//! gaps or repeats a time cursor has when two events share a second.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::StoreError;
use crate::audit::{SecurityEvent, SecuritySink};

/// One stored security event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredEvent {
    /// Its id: larger for a later event (the `before` cursor).
    pub id: i64,
    /// When it happened (Unix seconds).
    pub at: i64,
    /// The user it is about.
    pub user_id: String,
    /// Its name (`sign_in`, `password_changed`, ...).
    pub kind: String,
    /// The client's address, when the event names the client.
    pub client_address: Option<String>,
    /// The client's `User-Agent`, when the event names the client.
    pub user_agent: Option<String>,
    /// The session it concerns, when it names one.
    pub session: Option<String>,
    /// The superuser who acted on the user (an impersonation, a ban over the API),
    /// when one did.
    pub actor: Option<String>,
    /// The whole event as JSON (never a secret: events carry none).
    pub event: String,
}

impl StoredEvent {
    /// The row for `event` at `at`, if the event names a user.
    ///
    /// ```
    /// use warden_runtime::audit::SecurityEvent;
    /// use warden_runtime::store::StoredEvent;
    /// let event = SecurityEvent::Logout { user_id: "42".into(), backend: "jwt".into() };
    /// let row = StoredEvent::of(100, &event).unwrap();
    /// assert_eq!((row.at, row.user_id.as_str(), row.kind.as_str()), (100, "42", "logout"));
    /// ```
    pub fn of(at: i64, event: &SecurityEvent) -> Option<Self> {
        let user_id = event.user_id()?.to_owned();
        let client = event.client();
        Some(Self {
            id: 0,
            at,
            user_id,
            kind: event.kind().to_owned(),
            client_address: client.and_then(|c| c.address).map(|a| a.to_string()),
            user_agent: client.and_then(|c| c.user_agent.clone()),
            session: event.session().map(str::to_owned),
            actor: event.actor().map(str::to_owned),
            event: serde_json::to_string(event).unwrap_or_default(),
        })
    }
}

/// Where the audit trail keeps security events.
#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Stores `event` (its `id` is ignored: the store numbers it).
    async fn record(&self, event: StoredEvent) -> Result<(), StoreError>;
    /// The user's events, newest first, at most `limit`, only those with an id below
    /// `before` when given.
    async fn of_user(
        &self,
        user_id: &str,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<StoredEvent>, StoreError>;
    /// Deletes the events from before `before` (Unix seconds); how many.
    async fn purge(&self, before: i64) -> Result<u64, StoreError>;
}

/// Security events in a vector behind a mutex: for the memory store.
///
/// ```
/// # tokio_test_block_on(async {
/// use warden_runtime::audit::SecurityEvent;
/// use warden_runtime::store::{AuditStore, MemoryAudit, StoredEvent};
/// let store = MemoryAudit::default();
/// let event = SecurityEvent::Logout { user_id: "42".into(), backend: "jwt".into() };
/// store.record(StoredEvent::of(100, &event).unwrap()).await?;
/// assert_eq!(store.of_user("42", 10, None).await?.len(), 1);
/// assert_eq!(store.purge(101).await?, 1);
/// # Ok::<(), warden_runtime::StoreError>(()) });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Default)]
pub struct MemoryAudit {
    events: Mutex<(i64, Vec<StoredEvent>)>,
}

#[async_trait]
impl AuditStore for MemoryAudit {
    async fn record(&self, mut event: StoredEvent) -> Result<(), StoreError> {
        let mut events = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        events.0 += 1;
        event.id = events.0;
        events.1.push(event);
        Ok(())
    }

    async fn of_user(
        &self,
        user_id: &str,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let events = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(events
            .1
            .iter()
            .rev()
            .filter(|e| e.user_id == user_id && before.is_none_or(|b| e.id < b))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn purge(&self, before: i64) -> Result<u64, StoreError> {
        let mut events = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let was = events.1.len();
        events.1.retain(|e| e.at >= before);
        Ok((was - events.1.len()) as u64)
    }
}

/// The sink that writes the events naming a user to an [`AuditStore`].
pub(crate) struct StoreSink(pub(crate) Arc<dyn AuditStore>);

#[async_trait]
impl SecuritySink for StoreSink {
    async fn record(&self, at: i64, event: &SecurityEvent) {
        self.record_from(at, event, None).await;
    }

    async fn record_from(
        &self,
        at: i64,
        event: &SecurityEvent,
        client: Option<&crate::audit::Client>,
    ) {
        let Some(mut row) = StoredEvent::of(at, event) else {
            return;
        };
        // The request's client, for an event emitted where no request is known
        // (the user manager's: a password or an e-mail changed).
        if let Some(client) = client.filter(|_| event.client().is_none()) {
            row.client_address = client.address.map(|address| address.to_string());
            row.user_agent.clone_from(&client.user_agent);
        }
        if let Err(error) = self.0.record(row).await {
            tracing::warn!(%error, kind = event.kind(), "could not store a security event");
        }
    }
}

/// The migration step's table and the indexes its reads and purge scan by.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn table(postgres: bool, _: crate::model::IdKind) -> String {
    let id = if postgres {
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    } else {
        "INTEGER PRIMARY KEY AUTOINCREMENT"
    };
    format!(
        "CREATE TABLE IF NOT EXISTS warden_security_event (
    id {id},
    at BIGINT NOT NULL,
    user_id VARCHAR(64) NOT NULL,
    kind VARCHAR(64) NOT NULL,
    client_address VARCHAR(64),
    user_agent VARCHAR(512),
    session VARCHAR(128),
    actor VARCHAR(64),
    event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS warden_security_event_user ON warden_security_event (user_id, id);
CREATE INDEX IF NOT EXISTS warden_security_event_at ON warden_security_event (at);
"
    )
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn db(error: sqlx::Error) -> StoreError {
    StoreError::Database(error.to_string())
}

/// A `warden_security_event` row.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
type Row = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn row(
    (id, at, user_id, kind, client_address, user_agent, session, actor, event): Row,
) -> StoredEvent {
    StoredEvent {
        id,
        at,
        user_id,
        kind,
        client_address,
        user_agent,
        session,
        actor,
        event,
    }
}

/// Cuts a value to what its column holds (on a character boundary): a long user
/// agent is the client's to choose, and must not fail the insert.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn fit(value: Option<String>, max: usize) -> Option<String> {
    value.map(|v| v.chars().take(max).collect())
}

/// `$1`-style placeholders for PostgreSQL, `?1`-style for SQLite.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! sql_audit {
    ($name:ident, $pool:ty, $p:expr) => {
        /// Security events in the store's database.
        #[derive(Debug, Clone)]
        pub(crate) struct $name(pub(crate) $pool);

        #[async_trait]
        impl AuditStore for $name {
            async fn record(&self, event: StoredEvent) -> Result<(), StoreError> {
                let p = $p;
                sqlx::query(&format!(
                    "INSERT INTO warden_security_event \
                     (at, user_id, kind, client_address, user_agent, session, actor, event) \
                     VALUES ({}, {}, {}, {}, {}, {}, {}, {})",
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5),
                    p(6),
                    p(7),
                    p(8)
                ))
                .bind(event.at)
                .bind(event.user_id)
                .bind(event.kind)
                .bind(fit(event.client_address, 64))
                .bind(fit(event.user_agent, 512))
                .bind(fit(event.session, 128))
                .bind(fit(event.actor, 64))
                .bind(event.event)
                .execute(&self.0)
                .await
                .map_err(db)?;
                Ok(())
            }

            async fn of_user(
                &self,
                user_id: &str,
                limit: u32,
                before: Option<i64>,
            ) -> Result<Vec<StoredEvent>, StoreError> {
                let p = $p;
                let rows: Vec<Row> = sqlx::query_as(&format!(
                    "SELECT id, at, user_id, kind, client_address, user_agent, session, actor, event \
                     FROM warden_security_event WHERE user_id = {} AND id < {} \
                     ORDER BY id DESC LIMIT {}",
                    p(1),
                    p(2),
                    p(3)
                ))
                .bind(user_id)
                .bind(before.unwrap_or(i64::MAX))
                .bind(i64::from(limit))
                .fetch_all(&self.0)
                .await
                .map_err(db)?;
                Ok(rows.into_iter().map(row).collect())
            }

            async fn purge(&self, before: i64) -> Result<u64, StoreError> {
                let p = $p;
                Ok(sqlx::query(&format!(
                    "DELETE FROM warden_security_event WHERE at < {}",
                    p(1)
                ))
                .bind(before)
                .execute(&self.0)
                .await
                .map_err(db)?
                .rows_affected())
            }
        }
    };
}

#[cfg(feature = "sqlite")]
sql_audit!(SqliteAudit, sqlx::SqlitePool, |n: usize| format!("?{n}"));

#[cfg(feature = "postgres")]
sql_audit!(PostgresAudit, sqlx::PgPool, |n: usize| format!("${n}"));
