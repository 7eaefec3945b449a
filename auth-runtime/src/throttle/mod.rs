//! Login throttling (OWASP ASVS 2.2.1): failed logins are counted per account and per
//! client address in fixed windows, in the store (so every instance sees the same
//! counts), and past a limit the route answers 429 with `Retry-After` without
//! checking the password. The limit is temporary, never a permanent lockout: it
//! ends with the window, and a successful password reset clears the account's
//! count. An attacker who fails in every window cannot lock the owner out: a
//! browser that signed in before holds a device cookie (module `device`) and is judged
//! by its own failures only (OWASP's device cookies).
//!
//! The counters stay bounded (issue 18, item 6): a request the address limit
//! already refuses writes nothing; keys are hashes of fixed length; an account is
//! counted under its user id once found (so every spelling of one account shares
//! one count, whatever the database's `lower()` folds); and a timer, never a
//! request, drops the counts of past windows.

mod address;
mod device;

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

pub use crate::store::counters::{Counters, MemoryCounters};
pub use address::TrustedProxies;
pub(crate) use address::client_address;
pub(crate) use device::{Device, DeviceCookies};

use crate::error::ApiError;

/// The limits of [`WardenBuilder::throttle`](crate::WardenBuilder::throttle).
///
/// ```
/// use std::time::Duration;
/// use warden_runtime::ThrottleSettings;
/// let strict = ThrottleSettings { per_account: 20, ..ThrottleSettings::default() };
/// assert_eq!(strict.window, Duration::from_secs(3600));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// The counting window. Default one hour.
    pub window: Duration,
    /// Failed logins per account (the user, or for a login no user has, the login
    /// as typed) per window, from clients without a device cookie of the account.
    /// Default 100, ASVS 2.2.1's ceiling.
    pub per_account: u64,
    /// Failed logins per client address (an IPv6 /64 counts as one) per window.
    /// Default 300: several people behind one NAT may mistype.
    pub per_address: u64,
    /// `POST /auth/forgot-password` and `/auth/request-verify-token` per client
    /// address per window: each may send an e-mail. Default 30.
    pub requests_per_address: u64,
    /// `POST /auth/register` per client address per window: each hashes a new
    /// password, so a flood would hold the hashing workers. Default 30.
    pub register_per_address: u64,
    /// Failed logins per device cookie per window (OWASP's device lockout): a
    /// browser holding one is refused after these, whatever others do. Default 10.
    pub per_device: u64,
    /// How long a device cookie lives. Default 30 days.
    pub device_lifetime: Duration,
    /// Whether the device cookie is `Secure` (and so named `__Host-warden_device`);
    /// turn off only for development over plain HTTP (`warden_device`). Default on.
    pub device_cookie_secure: bool,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(3600),
            per_account: 100,
            per_address: 300,
            requests_per_address: 30,
            register_per_address: 30,
            per_device: 10,
            device_lifetime: Duration::from_secs(30 * 24 * 3600),
            device_cookie_secure: true,
        }
    }
}

/// The throttle a warden applies: its limits over the store's counters.
pub(crate) struct Throttle {
    counters: Arc<dyn Counters>,
    settings: ThrottleSettings,
    devices: DeviceCookies,
    /// Whether the purge timer runs (started by the first request, inside the
    /// runtime).
    purging: AtomicBool,
    /// Whether the missing client address was reported.
    no_address_said: AtomicBool,
}

/// The account a login names: a user, once found, or the login as typed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Account<'a> {
    /// The user with this id: every spelling that finds it counts here.
    User(&'a str),
    /// A login no user has: counted as typed (ASCII case folded), so an unknown
    /// account is throttled exactly like a real one.
    Unknown(&'a str),
}

impl Account<'_> {
    fn key(self) -> String {
        match self {
            Self::User(id) => hashed("user", id),
            Self::Unknown(login) => hashed("login", &login.to_ascii_lowercase()),
        }
    }
}

/// A counter's key: its kind and the SHA-256 of what it counts, so that a key has
/// one length whatever the client typed (a login of 320 characters is a 49-byte
/// key) and names no e-mail address in the table.
fn hashed(kind: &str, value: &str) -> String {
    format!(
        "{kind}:{}",
        URL_SAFE_NO_PAD.encode(Sha256::digest(value.as_bytes()))
    )
}

fn address_key(kind: &str, address: IpAddr) -> String {
    hashed(kind, &address::bucket(address))
}

/// Spawns the timer that drops the counts of windows (of length `window`) past:
/// off every request (a purge scans the window index and, on SQLite, holds the
/// write lock for its statement), and ending with the counters (it holds only a
/// weak reference). Spent OAuth states, whose window is their expiry, go with
/// them once expired. `false` outside a Tokio runtime.
pub(crate) fn purge_on_timer(counters: &Arc<dyn Counters>, window: Duration) -> bool {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return false;
    };
    let counters: Weak<dyn Counters> = Arc::downgrade(counters);
    let length = window.max(Duration::from_secs(1));
    // Several times a window, so a past window's counts go soon after it ends.
    let every = (length / 4).clamp(Duration::from_secs(1), Duration::from_secs(300));
    let length = i64::try_from(length.as_secs()).unwrap_or(i64::MAX);
    runtime.spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(counters) = counters.upgrade() else {
                return;
            };
            let now = crate::token::now();
            if let Err(error) = counters.purge(now - now.rem_euclid(length)).await {
                tracing::warn!(%error, "could not purge past throttling counts");
            }
        }
    });
    true
}

/// A login admitted past the throttle: what its outcome is counted against.
#[derive(Debug)]
pub(crate) struct Attempt {
    /// The account's key, counted already.
    account: String,
    /// The device cookie that verified for the account, if any.
    pub(crate) device: Option<Device>,
    address: Option<IpAddr>,
}

impl Throttle {
    pub(crate) fn new(
        counters: Arc<dyn Counters>,
        settings: ThrottleSettings,
        devices: DeviceCookies,
    ) -> Self {
        let throttle = Self {
            counters,
            settings,
            devices,
            purging: AtomicBool::new(false),
            no_address_said: AtomicBool::new(false),
        };
        throttle.start_purging();
        throttle
    }

    /// The current window's start and the seconds until it ends.
    fn window(&self) -> (i64, u32) {
        let length = i64::try_from(self.settings.window.as_secs().max(1)).unwrap_or(i64::MAX);
        let now = crate::token::now();
        let start = now - now.rem_euclid(length);
        let left = u32::try_from(start + length - now)
            .unwrap_or(u32::MAX)
            .max(1);
        (start, left)
    }

    fn too_many(retry_after: u32) -> ApiError {
        ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            serde_json::Value::from("Too Many Requests"),
        )
        .retry_after(retry_after)
    }

    /// Starts, once, the timer that drops the counts of past windows (see
    /// [`purge_on_timer`]); the first request starts it when the builder ran
    /// outside a runtime.
    fn start_purging(&self) {
        if !self.purging.swap(true, Ordering::Relaxed)
            && !purge_on_timer(&self.counters, self.settings.window)
        {
            self.purging.store(false, Ordering::Relaxed);
        }
    }

    /// Whether the request carries a device cookie to verify.
    pub(crate) fn presents_device(&self, headers: &HeaderMap) -> bool {
        self.devices.presented(headers)
    }

    /// The device cookie of `headers` that verifies for the user `user_id` (issued
    /// after the user's `cutoff`, alive at `now`).
    pub(crate) fn device(
        &self,
        headers: &HeaderMap,
        user_id: &str,
        cutoff: Option<i64>,
        now: i64,
    ) -> Option<Device> {
        self.devices.read(headers, user_id, cutoff, now)
    }

    /// `Set-Cookie` with a device cookie for `user_id`, who just proved the password
    /// in `attempt`.
    pub(crate) fn device_cookie(
        &self,
        user_id: &str,
        attempt: &Attempt,
        now: i64,
    ) -> Option<HeaderValue> {
        self.devices.issue(user_id, attempt.device.as_ref(), now)
    }

    /// `Set-Cookie` with a device cookie for `user_id`, who just finished a sign-in
    /// whose password was proved earlier (the second step of a user with 2FA): the
    /// device the request presents, if it verifies, else a new one.
    pub(crate) fn device_cookie_after(
        &self,
        headers: &HeaderMap,
        user_id: &str,
        cutoff: Option<i64>,
        now: i64,
    ) -> Option<HeaderValue> {
        let device = self.devices.read(headers, user_id, cutoff, now);
        self.devices.issue(user_id, device.as_ref(), now)
    }

    /// Before checking a password. A client whose `device` cookie verified for the
    /// account is judged by its device's failures alone (OWASP's trusted client:
    /// others' failures neither of the account nor of the address refuse it).
    /// Any other is refused at once, writing nothing, when its address is over the
    /// limit; otherwise the attempt is counted against the account (so concurrent
    /// guesses cannot all slip under the limit while their hashes run) and refused
    /// past the account's limit.
    pub(crate) async fn check_login(
        &self,
        account: Account<'_>,
        device: Option<Device>,
        address: Option<IpAddr>,
    ) -> Result<Attempt, ApiError> {
        self.start_purging();
        let (window, retry_after) = self.window();
        if address.is_none() && !self.no_address_said.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "requests carry no client address (serve with warden::serve, or axum's into_make_service_with_connect_info): logins are throttled per account only"
            );
        }
        let account = account.key();
        if let Some(device) = &device {
            let failures = self
                .counters
                .count(&hashed("device", &device.id), window)
                .await?;
            if failures < self.settings.per_device {
                return Ok(Attempt {
                    account,
                    device: Some(device.clone()),
                    address,
                });
            }
            // A device over its own limit is one more untrusted client (OWASP).
        }
        let from_address = match address {
            Some(address) => {
                self.counters
                    .count(&address_key("address", address), window)
                    .await?
            }
            None => 0,
        };
        let refuse = |address| {
            tracing::info!(
                address = ?address,
                "login throttled: too many failures for this account or address"
            );
            Err(Self::too_many(retry_after))
        };
        if from_address >= self.settings.per_address {
            return refuse(address);
        }
        if self.counters.hit(&account, window).await? > self.settings.per_account {
            return refuse(address);
        }
        Ok(Attempt {
            account,
            device: None,
            address,
        })
    }

    /// After a refused password (or an unknown login): the address is counted, and a
    /// trusted device's own count (the account was, with the attempt of an
    /// untrusted client).
    pub(crate) async fn failed_login(&self, attempt: &Attempt) -> Result<(), ApiError> {
        let (window, _) = self.window();
        if let Some(address) = attempt.address {
            self.counters
                .hit(&address_key("address", address), window)
                .await?;
        }
        if let Some(device) = &attempt.device {
            self.counters
                .hit(&hashed("device", &device.id), window)
                .await?;
        }
        Ok(())
    }

    /// After the right password: an untrusted client's success clears the account's
    /// count (it got there under the limit); a trusted device's clears only its
    /// own, so the owner signing in hands an attacker elsewhere no fresh guesses.
    pub(crate) async fn succeeded(&self, attempt: &Attempt) -> Result<(), ApiError> {
        match &attempt.device {
            Some(device) => self.counters.clear(&hashed("device", &device.id)).await?,
            None => self.counters.clear(&attempt.account).await?,
        }
        Ok(())
    }

    /// After a password reset: the user's account starts afresh.
    pub(crate) async fn clear_account(&self, user_id: &str) -> Result<(), ApiError> {
        Ok(self.counters.clear(&Account::User(user_id).key()).await?)
    }

    /// A request that may send an e-mail: counted per address, 429 past the limit.
    pub(crate) async fn request(&self, address: Option<IpAddr>) -> Result<(), ApiError> {
        self.per_address("request", self.settings.requests_per_address, address)
            .await
    }

    /// A registration: counted per address, 429 past the limit.
    pub(crate) async fn register(&self, address: Option<IpAddr>) -> Result<(), ApiError> {
        self.per_address("register", self.settings.register_per_address, address)
            .await
    }

    async fn per_address(
        &self,
        kind: &str,
        limit: u64,
        address: Option<IpAddr>,
    ) -> Result<(), ApiError> {
        self.start_purging();
        let Some(address) = address else {
            return Ok(());
        };
        let (window, retry_after) = self.window();
        let hits = self
            .counters
            .hit(&address_key(kind, address), window)
            .await?;
        if hits > limit {
            return Err(Self::too_many(retry_after));
        }
        Ok(())
    }
}
