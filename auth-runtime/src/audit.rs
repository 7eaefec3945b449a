//! Security events: what happened to whose account, delivered off the request to a
//! sink the application supplies (a log, a SIEM, a mailer that tells the user).
//! Requests only enqueue: a slow, failing or panicking sink never fails or slows a
//! request; when the queue is full, events are dropped and counted (OWASP ASVS 5.0
//! V16: log security events without letting logging take the service down).
//!
//! Events carry personal data (user ids, e-mail addresses, client addresses and
//! user agents): treat the sink's output as such.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::Serialize;
use tokio::sync::mpsc;

/// How many events wait for the sink before new ones are dropped.
const QUEUE: usize = 4096;

/// Who sent the request an event comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Client {
    /// The client's address (behind trusted proxies, the forwarded one), if known.
    pub address: Option<IpAddr>,
    /// The request's `User-Agent`.
    pub user_agent: Option<String>,
}

impl Client {
    /// A client at `address` with `user_agent`.
    pub fn new(address: Option<IpAddr>, user_agent: Option<String>) -> Self {
        Self {
            address,
            user_agent,
        }
    }

    /// The client at `address` that sent `headers` (its `User-Agent`).
    pub(crate) fn of_request(address: Option<IpAddr>, headers: &axum::http::HeaderMap) -> Self {
        let user_agent = headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        Self::new(address, user_agent)
    }
}

tokio::task_local! {
    /// The client of the request being served, for the events it emits that do
    /// not name one themselves (a password changed at `PATCH /users/me` is emitted
    /// by the user manager, which knows no request).
    static REQUEST_CLIENT: Client;
}

/// Runs `future`, a request of `client`'s: the events it emits carry the client
/// to the sinks ([`SecuritySink::record_from`]).
pub(crate) async fn serving<F: std::future::Future>(client: Client, future: F) -> F::Output {
    REQUEST_CLIENT.scope(client, future).await
}

/// A security event. Serialised with its name in `event` (`"sign_in"`,
/// `"password_changed"`, ...), ready for a JSON log line.
///
/// ```
/// use warden_runtime::audit::SecurityEvent;
/// let event = SecurityEvent::PasswordChanged {
///     user_id: "42".into(),
///     email: Some("ada@example.com".into()),
/// };
/// assert_eq!(
///     serde_json::to_value(&event).unwrap(),
///     serde_json::json!({"event": "password_changed", "user_id": "42", "email": "ada@example.com"})
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SecurityEvent {
    /// A session was started, continued (refresh) or re-authenticated.
    SignIn {
        /// The user.
        user_id: String,
        /// The backend whose tokens were granted.
        backend: String,
        /// `start`, `continue` or `reauthenticate`.
        kind: &'static str,
        /// How the user proved who they are (RFC 8176).
        amr: Vec<String>,
        /// Who asked.
        client: Client,
    },
    /// A sign-in was refused.
    SignInRefused {
        /// The user, when the credential named one (a wrong password names none).
        user_id: Option<String>,
        /// The backend.
        backend: String,
        /// `bad_credentials`, `inactive`, `unverified`, `banned` or `denied` (the
        /// application's policy).
        reason: &'static str,
        /// Who asked.
        client: Client,
    },
    /// Sign-ins of an account or from an address were throttled (429).
    Throttled {
        /// The login tried.
        login: String,
        /// Who asked.
        client: Client,
    },
    /// A logout ended one session.
    Logout {
        /// The user.
        user_id: String,
        /// The backend.
        backend: String,
    },
    /// The user ended one of their sessions from the sessions list.
    SessionEnded {
        /// The user.
        user_id: String,
        /// The session.
        session: String,
    },
    /// Every session of the user ended.
    SessionsEnded {
        /// The user.
        user_id: String,
        /// `logout_everywhere`, `password_changed`, `password_reset`, `deactivated`,
        /// `deleted` or `banned`.
        reason: &'static str,
    },
    /// The password was changed (by the user or a superuser).
    PasswordChanged {
        /// The user.
        user_id: String,
        /// Their e-mail, to tell them (none for a model without one).
        email: Option<String>,
    },
    /// The password was reset with a reset token.
    PasswordReset {
        /// The user.
        user_id: String,
        /// Their e-mail, to tell them (none for a model without one).
        email: Option<String>,
    },
    /// The e-mail address changed: tell the old one.
    EmailChanged {
        /// The user.
        user_id: String,
        /// The address before.
        from: String,
        /// The address now.
        to: String,
    },
    /// A revoked API key, the whole right key, was presented: a copy of it is in
    /// use by someone (refused, 401).
    RevokedApiKeyUsed {
        /// The key's user.
        user_id: String,
        /// The key's public id.
        key_id: String,
    },
    /// A superuser (`PATCH /users/{id}`) or the application's code changed the
    /// user's roles.
    RolesChanged {
        /// The user.
        user_id: String,
        /// The roles before, by name.
        from: Vec<String>,
        /// The roles now, by name.
        to: Vec<String>,
    },
    /// A spent refresh token was presented again: a copy was stolen, and its session
    /// ended (RFC 9700 §4.14.2).
    RefreshTokenReused {
        /// The user.
        user_id: String,
        /// The session that was ended.
        session: String,
    },
    /// A first factor was right and the user has a second: an `mfa_token` was
    /// answered instead of tokens.
    SecondFactorRequested {
        /// The user.
        user_id: String,
        /// The backend.
        backend: String,
        /// Who asked.
        client: Client,
    },
    /// A second-factor code, or a recovery code, did not check (at the second step,
    /// a re-authentication, or a 2FA change).
    SecondFactorFailed {
        /// The user.
        user_id: String,
        /// Who asked.
        client: Client,
    },
    /// The user turned two-factor authentication on (or replaced its secret).
    TwoFactorEnabled {
        /// The user.
        user_id: String,
        /// Their e-mail, to tell them (none for a model without one).
        email: Option<String>,
    },
    /// Two-factor authentication was turned off, by the user or an operator.
    TwoFactorDisabled {
        /// The user.
        user_id: String,
        /// Their e-mail, to tell them (none for a model without one).
        email: Option<String>,
        /// `user`, `superuser` (`DELETE /users/{id}/2fa`) or `operator` (the CLI).
        by: &'static str,
    },
    /// A recovery code was used up.
    RecoveryCodeUsed {
        /// The user.
        user_id: String,
        /// Their e-mail, to tell them (none for a model without one).
        email: Option<String>,
        /// How many are left.
        left: usize,
    },
    /// New recovery codes replaced the old ones.
    RecoveryCodesRegenerated {
        /// The user.
        user_id: String,
        /// Their e-mail, to tell them (none for a model without one).
        email: Option<String>,
    },
    /// The user forgot every remembered device.
    TrustedDevicesForgotten {
        /// The user.
        user_id: String,
    },
    /// A provider account was linked to the user.
    AccountLinked {
        /// The user.
        user_id: String,
        /// The provider (the OAuth client's name).
        provider: String,
    },
    /// The user unlinked a provider account (`DELETE /users/me/oauth-accounts/...`).
    AccountUnlinked {
        /// The user.
        user_id: String,
        /// The provider (the OAuth client's name).
        provider: String,
    },
    /// A superuser began acting as the user (`POST /users/{id}/impersonate`): shown
    /// to the user among their events, as the session is among their sessions.
    ImpersonationStarted {
        /// The user.
        user_id: String,
        /// The superuser acting as them, by id.
        actor: String,
        /// The backend whose tokens were granted.
        backend: String,
        /// Who asked (the superuser's client).
        client: Client,
    },
    /// An impersonation session was ended (`POST /auth/{name}/stop-impersonating`).
    ImpersonationEnded {
        /// The user.
        user_id: String,
        /// The superuser who acted as them, by id.
        actor: String,
    },
    /// The user was banned (by a superuser, the CLI or code).
    UserBanned {
        /// The user.
        user_id: String,
        /// When the ban ends by itself (Unix seconds); `None`: until lifted.
        until: Option<i64>,
        /// The superuser who banned them; `None` for the CLI or code.
        by: Option<String>,
    },
    /// The user's ban was lifted.
    UserUnbanned {
        /// The user.
        user_id: String,
    },
    /// A passkey was added to the account: tell the user.
    PasskeyAdded {
        /// The user.
        user_id: String,
        /// Their e-mail, to tell them (none for a model without one).
        email: Option<String>,
        /// The passkey's name.
        name: String,
    },
    /// A passkey was deleted from the account: tell the user.
    PasskeyRemoved {
        /// The user.
        user_id: String,
        /// Their e-mail, to tell them (none for a model without one).
        email: Option<String>,
        /// The passkey's name.
        name: String,
    },
    /// An API key was created (`POST /users/me/api-keys`).
    ApiKeyCreated {
        /// The user.
        user_id: String,
        /// The key's public id (never its secret).
        key_id: String,
        /// Its name.
        name: String,
        /// Its scopes.
        scopes: Vec<String>,
    },
    /// An API key was revoked, by its owner or (`by_superuser`) a superuser.
    ApiKeyRevoked {
        /// The key's owner.
        user_id: String,
        /// The key's public id.
        key_id: String,
        /// A superuser revoked it (`DELETE /users/{id}/api-keys/{key_id}`).
        by_superuser: bool,
    },
}

impl SecurityEvent {
    /// The user the event is about, when it names one (a throttled login or a
    /// refused wrong password names none).
    ///
    /// ```
    /// use warden_runtime::audit::SecurityEvent;
    /// let event = SecurityEvent::Logout { user_id: "42".into(), backend: "jwt".into() };
    /// assert_eq!((event.user_id(), event.kind()), (Some("42"), "logout"));
    /// ```
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Self::SignInRefused { user_id, .. } => user_id.as_deref(),
            Self::Throttled { .. } => None,
            Self::SignIn { user_id, .. }
            | Self::Logout { user_id, .. }
            | Self::SessionEnded { user_id, .. }
            | Self::SessionsEnded { user_id, .. }
            | Self::PasswordChanged { user_id, .. }
            | Self::PasswordReset { user_id, .. }
            | Self::EmailChanged { user_id, .. }
            | Self::RolesChanged { user_id, .. }
            | Self::RevokedApiKeyUsed { user_id, .. }
            | Self::RefreshTokenReused { user_id, .. }
            | Self::SecondFactorRequested { user_id, .. }
            | Self::SecondFactorFailed { user_id, .. }
            | Self::TwoFactorEnabled { user_id, .. }
            | Self::TwoFactorDisabled { user_id, .. }
            | Self::RecoveryCodeUsed { user_id, .. }
            | Self::RecoveryCodesRegenerated { user_id, .. }
            | Self::TrustedDevicesForgotten { user_id }
            | Self::AccountLinked { user_id, .. }
            | Self::AccountUnlinked { user_id, .. }
            | Self::PasskeyAdded { user_id, .. }
            | Self::PasskeyRemoved { user_id, .. }
            | Self::ImpersonationStarted { user_id, .. }
            | Self::ImpersonationEnded { user_id, .. }
            | Self::UserBanned { user_id, .. }
            | Self::UserUnbanned { user_id }
            | Self::ApiKeyCreated { user_id, .. }
            | Self::ApiKeyRevoked { user_id, .. } => Some(user_id),
        }
    }

    /// The superuser who acted on the user, when the event names one (an
    /// impersonation, a ban made over the API).
    pub fn actor(&self) -> Option<&str> {
        match self {
            Self::ImpersonationStarted { actor, .. } | Self::ImpersonationEnded { actor, .. } => {
                Some(actor)
            }
            Self::UserBanned { by, .. } => by.as_deref(),
            _ => None,
        }
    }

    /// Its name, as serialised in `event`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SignIn { .. } => "sign_in",
            Self::SignInRefused { .. } => "sign_in_refused",
            Self::Throttled { .. } => "throttled",
            Self::Logout { .. } => "logout",
            Self::SessionEnded { .. } => "session_ended",
            Self::SessionsEnded { .. } => "sessions_ended",
            Self::PasswordChanged { .. } => "password_changed",
            Self::PasswordReset { .. } => "password_reset",
            Self::EmailChanged { .. } => "email_changed",
            Self::RolesChanged { .. } => "roles_changed",
            Self::RevokedApiKeyUsed { .. } => "revoked_api_key_used",
            Self::RefreshTokenReused { .. } => "refresh_token_reused",
            Self::SecondFactorRequested { .. } => "second_factor_requested",
            Self::SecondFactorFailed { .. } => "second_factor_failed",
            Self::TwoFactorEnabled { .. } => "two_factor_enabled",
            Self::TwoFactorDisabled { .. } => "two_factor_disabled",
            Self::RecoveryCodeUsed { .. } => "recovery_code_used",
            Self::RecoveryCodesRegenerated { .. } => "recovery_codes_regenerated",
            Self::TrustedDevicesForgotten { .. } => "trusted_devices_forgotten",
            Self::AccountLinked { .. } => "account_linked",
            Self::AccountUnlinked { .. } => "account_unlinked",
            Self::PasskeyAdded { .. } => "passkey_added",
            Self::PasskeyRemoved { .. } => "passkey_removed",
            Self::ImpersonationStarted { .. } => "impersonation_started",
            Self::ImpersonationEnded { .. } => "impersonation_ended",
            Self::UserBanned { .. } => "user_banned",
            Self::UserUnbanned { .. } => "user_unbanned",
            Self::ApiKeyCreated { .. } => "api_key_created",
            Self::ApiKeyRevoked { .. } => "api_key_revoked",
        }
    }

    /// Who sent the request, when the event names the client.
    pub fn client(&self) -> Option<&Client> {
        match self {
            Self::SignIn { client, .. }
            | Self::SignInRefused { client, .. }
            | Self::Throttled { client, .. }
            | Self::SecondFactorRequested { client, .. }
            | Self::SecondFactorFailed { client, .. }
            | Self::ImpersonationStarted { client, .. } => Some(client),
            _ => None,
        }
    }

    /// The session the event concerns, when it names one.
    pub fn session(&self) -> Option<&str> {
        match self {
            Self::SessionEnded { session, .. } | Self::RefreshTokenReused { session, .. } => {
                Some(session)
            }
            _ => None,
        }
    }
}

/// The audit trail's settings: how long security events are kept. They are personal
/// data (GDPR Art. 5(1)(e): kept no longer than needed), so there is no default.
///
/// ```
/// use std::time::Duration;
/// use warden_runtime::audit::AuditTrail;
/// let trail = AuditTrail::keep_for(Duration::from_secs(90 * 24 * 3600));
/// assert_eq!(trail.retention(), Duration::from_secs(90 * 24 * 3600));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditTrail {
    keep_for: std::time::Duration,
}

impl AuditTrail {
    /// Keeps each event for `age`, then the hourly purge deletes it.
    pub fn keep_for(age: std::time::Duration) -> Self {
        Self { keep_for: age }
    }

    /// How long events are kept.
    pub fn retention(&self) -> std::time::Duration {
        self.keep_for
    }
}

/// Where security events go: implement it and pass it to
/// `WardenBuilder::security_events`. It is called off the request, one event at a
/// time, in order; a slow one only delays the events behind it.
///
/// ```
/// use warden_runtime::async_trait;
/// use warden_runtime::audit::{SecurityEvent, SecuritySink};
/// /// One JSON line per event on standard error.
/// struct JsonLines;
/// #[async_trait]
/// impl SecuritySink for JsonLines {
///     async fn record(&self, at: i64, event: &SecurityEvent) {
///         let mut line = serde_json::to_value(event).unwrap_or_default();
///         line["at"] = at.into();
///         eprintln!("{line}");
///     }
/// }
/// ```
#[async_trait]
pub trait SecuritySink: Send + Sync + 'static {
    /// Records one event that happened at `at` (Unix seconds).
    async fn record(&self, at: i64, event: &SecurityEvent);

    /// Records one event with the client of the request it came from, when the
    /// event does not name one itself ([`SecurityEvent::client`] is `None`: a
    /// password changed, roles given) and it came from one of warden's routes. By
    /// default, [`record`](Self::record) without it; the audit trail keeps it.
    async fn record_from(&self, at: i64, event: &SecurityEvent, client: Option<&Client>) {
        let _ = client;
        self.record(at, event).await;
    }
}

/// An event, when it happened, and the client of its request if the event does
/// not name one.
type Queued = (i64, SecurityEvent, Option<Arc<Client>>);

/// The delivery task's half, kept until the first event starts it.
type Delivery = (mpsc::Receiver<Queued>, Arc<dyn SecuritySink>);

/// The queues in front of the sinks, one each (the application's own, the audit
/// trail's), so that a stuck sink holds up only its own events: cheap to clone,
/// never blocks.
#[derive(Clone, Default)]
pub(crate) struct Audit {
    inner: Vec<Arc<Inner>>,
}

struct Inner {
    sender: mpsc::Sender<Queued>,
    /// The receiving end until the first event starts the delivery task (the
    /// builder may run outside a Tokio runtime).
    pending: Mutex<Option<Delivery>>,
    dropped: AtomicU64,
    clock: crate::clock::Clock,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit")
            .field("sinks", &self.inner.len())
            .finish()
    }
}

impl Audit {
    /// Events for `sink`, timed on `clock`.
    pub(crate) fn new(sink: Arc<dyn SecuritySink>, clock: crate::clock::Clock) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        Self {
            inner: vec![Arc::new(Inner {
                sender,
                pending: Mutex::new(Some((receiver, sink))),
                dropped: AtomicU64::new(0),
                clock,
            })],
        }
    }

    /// Whether any sink listens.
    pub(crate) fn listens(&self) -> bool {
        !self.inner.is_empty()
    }

    /// These sinks and `other`'s, each on its own queue.
    pub(crate) fn and(mut self, other: Audit) -> Self {
        self.inner.extend(other.inner);
        self
    }

    /// Enqueues `event` (built only when someone listens) for every sink. Never waits.
    pub(crate) fn emit(&self, event: impl FnOnce() -> SecurityEvent) {
        let Some(first) = self.inner.first() else {
            return;
        };
        let (at, event) = (first.clock.now(), event());
        let client = match event.client() {
            Some(_) => None,
            None => REQUEST_CLIENT
                .try_with(|client| Arc::new(client.clone()))
                .ok(),
        };
        for inner in &self.inner {
            inner.start();
            if inner
                .sender
                .try_send((at, event.clone(), client.clone()))
                .is_err()
            {
                let dropped = inner.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                // Once, then every thousandth: the log must not flood either.
                if dropped == 1 || dropped % 1000 == 0 {
                    tracing::warn!(
                        dropped,
                        "security events dropped: the sink is slower than the events"
                    );
                }
            }
        }
    }
}

impl Inner {
    /// Starts the delivery task on the first event, inside the runtime.
    fn start(&self) {
        let taken = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let Some((mut receiver, sink)) = taken else {
            return;
        };
        tokio::spawn(async move {
            while let Some((at, event, client)) = receiver.recv().await {
                let sink = Arc::clone(&sink);
                // Each event in a task of its own: a panicking sink loses that event,
                // not the ones after it.
                if tokio::spawn(
                    async move { sink.record_from(at, &event, client.as_deref()).await },
                )
                .await
                .is_err()
                {
                    tracing::error!("the security event sink panicked; the event is lost");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    struct Slow(Arc<Mutex<Vec<SecurityEvent>>>);

    #[async_trait]
    impl SecuritySink for Slow {
        async fn record(&self, _at: i64, event: &SecurityEvent) {
            if matches!(event, SecurityEvent::Logout { backend, .. } if backend == "panic") {
                panic!("a sink that fails");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
            self.0.lock().unwrap().push(event.clone());
        }
    }

    fn logout(backend: &str) -> SecurityEvent {
        SecurityEvent::Logout {
            user_id: "u".into(),
            backend: backend.into(),
        }
    }

    #[tokio::test]
    async fn events_arrive_in_order_and_a_panicking_sink_loses_only_its_event() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let audit = Audit::new(Arc::new(Slow(Arc::clone(&seen))), crate::Clock::system());
        audit.emit(|| logout("a"));
        audit.emit(|| logout("panic"));
        audit.emit(|| logout("b"));
        for _ in 0..200 {
            if seen.lock().unwrap().len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(*seen.lock().unwrap(), [logout("a"), logout("b")]);
    }

    /// Keeps the client each event arrived with.
    struct Clients(Arc<Mutex<Vec<Option<Client>>>>);

    #[async_trait]
    impl SecuritySink for Clients {
        async fn record(&self, _at: i64, _event: &SecurityEvent) {}
        async fn record_from(&self, _at: i64, _event: &SecurityEvent, client: Option<&Client>) {
            self.0.lock().unwrap().push(client.cloned());
        }
    }

    #[tokio::test]
    async fn an_event_without_a_client_carries_its_requests() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let audit = Audit::new(Arc::new(Clients(Arc::clone(&seen))), crate::Clock::system());
        let request = Client::new(Some([192, 0, 2, 1].into()), Some("Probe/1".into()));
        let own = Client::new(None, Some("Own/1".into()));
        serving(request.clone(), async {
            audit.emit(|| logout("a"));
            // An event naming its client keeps its own, and gets none beside it.
            audit.emit(|| SecurityEvent::Throttled {
                login: "a@b.c".into(),
                client: own.clone(),
            });
        })
        .await;
        audit.emit(|| logout("outside a request"));
        for _ in 0..200 {
            if seen.lock().unwrap().len() == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(*seen.lock().unwrap(), [Some(request), None, None]);
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let audit = Audit::new(Arc::new(Slow(Arc::clone(&seen))), crate::Clock::system());
        let start = std::time::Instant::now();
        for _ in 0..QUEUE + 100 {
            audit.emit(|| logout("a"));
        }
        // Enqueueing never waited for the sink (one event takes 1 ms there).
        assert!(start.elapsed() < Duration::from_millis(500));
        let dropped = audit.inner[0].dropped.load(Ordering::Relaxed);
        assert!(dropped >= 99, "{dropped}");
    }

    #[test]
    fn kind_is_the_serialised_name_and_user_id_the_named_user() {
        let client = Client::new(None, Some("UA".into()));
        for (event, user) in [
            (logout("a"), Some("u")),
            (
                SecurityEvent::SignInRefused {
                    user_id: None,
                    backend: "jwt".into(),
                    reason: "bad_credentials",
                    client: client.clone(),
                },
                None,
            ),
            (
                SecurityEvent::Throttled {
                    login: "a@b.c".into(),
                    client: client.clone(),
                },
                None,
            ),
            (
                SecurityEvent::RecoveryCodesRegenerated {
                    user_id: "u".into(),
                    email: None,
                },
                Some("u"),
            ),
            (
                SecurityEvent::TrustedDevicesForgotten {
                    user_id: "u".into(),
                },
                Some("u"),
            ),
        ] {
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["event"], event.kind());
            assert_eq!(event.user_id(), user);
        }
    }

    /// A sink that never finishes an event.
    struct Stuck;

    #[async_trait]
    impl SecuritySink for Stuck {
        async fn record(&self, _at: i64, _event: &SecurityEvent) {
            std::future::pending::<()>().await;
        }
    }

    #[tokio::test]
    async fn a_stuck_sink_holds_up_only_its_own_queue() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let audit = Audit::new(Arc::new(Stuck), crate::Clock::system()).and(Audit::new(
            Arc::new(Slow(Arc::clone(&seen))),
            crate::Clock::system(),
        ));
        audit.emit(|| logout("a"));
        audit.emit(|| logout("b"));
        for _ in 0..200 {
            if seen.lock().unwrap().len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(*seen.lock().unwrap(), [logout("a"), logout("b")]);
    }

    #[test]
    fn without_a_sink_nothing_is_built() {
        Audit::default().emit(|| unreachable!("no sink: the event is never made"));
    }
}
