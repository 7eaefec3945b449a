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
        /// `bad_credentials`, `inactive`, `unverified` or `denied` (the application's
        /// policy).
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
        /// `logout_everywhere`, `password_changed`, `password_reset`, `deactivated`
        /// or `deleted`.
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
}

type Queued = (i64, SecurityEvent);

/// The delivery task's half, kept until the first event starts it.
type Delivery = (mpsc::Receiver<Queued>, Arc<dyn SecuritySink>);

/// The queue in front of the sink: cheap to clone, never blocks.
#[derive(Clone, Default)]
pub(crate) struct Audit {
    inner: Option<Arc<Inner>>,
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
            .field("enabled", &self.inner.is_some())
            .finish()
    }
}

impl Audit {
    /// Events for `sink`, timed on `clock`.
    pub(crate) fn new(sink: Arc<dyn SecuritySink>, clock: crate::clock::Clock) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        Self {
            inner: Some(Arc::new(Inner {
                sender,
                pending: Mutex::new(Some((receiver, sink))),
                dropped: AtomicU64::new(0),
                clock,
            })),
        }
    }

    /// Enqueues `event` (built only when someone listens). Never waits.
    pub(crate) fn emit(&self, event: impl FnOnce() -> SecurityEvent) {
        let Some(inner) = &self.inner else { return };
        inner.start();
        if inner.sender.try_send((inner.clock.now(), event())).is_err() {
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
            while let Some((at, event)) = receiver.recv().await {
                let sink = Arc::clone(&sink);
                // Each event in a task of its own: a panicking sink loses that event,
                // not the ones after it.
                if tokio::spawn(async move { sink.record(at, &event).await })
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
        let dropped = audit
            .inner
            .as_ref()
            .unwrap()
            .dropped
            .load(Ordering::Relaxed);
        assert!(dropped >= 99, "{dropped}");
    }

    #[test]
    fn without_a_sink_nothing_is_built() {
        Audit::default().emit(|| unreachable!("no sink: the event is never made"));
    }
}
