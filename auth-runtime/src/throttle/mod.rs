//! Login throttling (OWASP ASVS 2.2.1): failed logins are counted per account and per
//! client address in fixed windows, in the store (so every instance sees the same
//! counts), and past a limit the route answers 429 with `Retry-After` without
//! checking the password. The limit is temporary, never a permanent lockout: it
//! ends with the window, and a successful password reset clears the account's
//! count. (An attacker who fails 100 times in every window keeps an account
//! throttled; its owner then resets the password, and an application that fears
//! this raises `per_account` or adds a second factor.)

mod address;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

pub use crate::store::counters::{Counters, MemoryCounters};
pub use address::TrustedProxies;
pub(crate) use address::client_address;

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
    /// Failed logins per account (the login as typed, existing or not) per window.
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
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(3600),
            per_account: 100,
            per_address: 300,
            requests_per_address: 30,
            register_per_address: 30,
        }
    }
}

/// The throttle a warden applies: its limits over the store's counters.
pub(crate) struct Throttle {
    counters: Arc<dyn Counters>,
    settings: ThrottleSettings,
    /// The window whose start last purged older counts (once per window).
    purged: AtomicI64,
    /// Whether the missing client address was reported.
    no_address_said: AtomicBool,
}

/// What a key counts.
fn account_key(login: &str) -> String {
    format!("login:{}", login.to_ascii_lowercase())
}

fn address_key(kind: &str, address: IpAddr) -> String {
    format!("{kind}:{}", address::bucket(address))
}

impl Throttle {
    pub(crate) fn new(counters: Arc<dyn Counters>, settings: ThrottleSettings) -> Self {
        Self {
            counters,
            settings,
            purged: AtomicI64::new(i64::MIN),
            no_address_said: AtomicBool::new(false),
        }
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

    /// Before checking a password: the attempt is counted against the account at
    /// once (so concurrent guesses cannot all slip under the limit while their
    /// hashes run), and 429 if the account or the address is over its limit. The
    /// account is the login as typed, so an unknown one is throttled exactly like a
    /// real one; a successful login clears its count.
    pub(crate) async fn check_login(
        &self,
        login: &str,
        address: Option<IpAddr>,
    ) -> Result<(), ApiError> {
        let (window, retry_after) = self.window();
        if address.is_none() && !self.no_address_said.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "requests carry no client address (serve with warden::serve, or axum's into_make_service_with_connect_info): logins are throttled per account only"
            );
        }
        let account = self.counters.hit(&account_key(login), window).await?;
        let from_address = match address {
            Some(address) => {
                self.counters
                    .count(&address_key("address", address), window)
                    .await?
            }
            None => 0,
        };
        if account > self.settings.per_account || from_address >= self.settings.per_address {
            tracing::info!(
                address = ?address,
                "login throttled: too many failures for this account or address"
            );
            return Err(Self::too_many(retry_after));
        }
        Ok(())
    }

    /// After a refused password (or an unknown login): the address is counted (the
    /// account was, with the attempt).
    pub(crate) async fn failed_login(&self, address: Option<IpAddr>) -> Result<(), ApiError> {
        let (window, _) = self.window();
        if let Some(address) = address {
            self.counters
                .hit(&address_key("address", address), window)
                .await?;
        }
        // Counts of past windows are dead weight: dropped once per window.
        if self.purged.swap(window, Ordering::Relaxed) != window {
            self.counters.purge(window).await?;
        }
        Ok(())
    }

    /// After a successful login or password reset: the account starts afresh (its
    /// address keeps its count).
    pub(crate) async fn clear_account(&self, login: &str) -> Result<(), ApiError> {
        Ok(self.counters.clear(&account_key(login)).await?)
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
