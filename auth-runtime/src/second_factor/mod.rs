//! The second factor as the sign-in step and the routes use it: TOTP codes and
//! recovery codes checked against the store, the `mfa_token` challenge between a
//! first factor and the code, remembered devices, and the policy that says whose
//! sessions need one. The codes' cryptography is [`crate::two_factor`]'s; where
//! they live, [`crate::store::TwoFactorStore`]'s.
//!
//! What a session proved is its `amr` (RFC 8176): a second factor adds `otp` (a
//! TOTP code), [`RECOVERY_CODE_AMR`] (a recovery code) or [`TRUSTED_DEVICE_AMR`] (a
//! remembered device), and always `mfa`, the one value the policy and `mfa` guards
//! look for, so a passkey with user verification or a provider that did MFA count
//! the same.

mod challenge;
mod config;
mod trust;

use std::sync::Arc;

use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

pub use challenge::{CHALLENGE_LIFETIME, CHALLENGE_TRIES};
pub use config::{DEFAULT_ACR, TwoFactor, TwoFactorPolicy};

use crate::clock::Clock;
use crate::error::{ApiError, ConfigError};
use crate::keyring::Keyring;
use crate::model::UserModel;
use crate::store::{StoreError, TwoFactorStore};
use crate::two_factor::{recovery, seal, totp};

/// RFC 8176's value for multiple-factor authentication: what every second factor
/// adds, and what `mfa` guards and the policy require.
pub const MFA_AMR: &str = "mfa";
/// RFC 8176's value for a one-time password: a TOTP code.
pub const OTP_AMR: &str = "otp";
/// warden's value for a recovery code (RFC 8176 has none).
pub const RECOVERY_CODE_AMR: &str = "recovery_code";
/// warden's value for a device the user asked to remember after a second factor.
pub const TRUSTED_DEVICE_AMR: &str = "trusted_device";

/// Whether a sign-in that proved `amr` had a second factor.
///
/// ```
/// use warden_runtime::second_factor::has_second_factor;
/// assert!(has_second_factor(&["pwd".into(), "otp".into(), "mfa".into()]));
/// assert!(!has_second_factor(&["pwd".into()]));
/// ```
pub fn has_second_factor(amr: &[String]) -> bool {
    amr.iter().any(|value| value == MFA_AMR)
}

/// A second factor that checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Factor {
    /// A TOTP code.
    Otp,
    /// A recovery code (now used up).
    RecoveryCode,
    /// A passkey with user verification, answering the `mfa_token`.
    Passkey {
        /// The authenticator's backup-eligible flag: `swk` when set, else `hwk`.
        backup_eligible: bool,
    },
}

impl Factor {
    /// The `amr` values it adds.
    pub(crate) fn amr(self) -> [&'static str; 2] {
        match self {
            Self::Otp => [OTP_AMR, MFA_AMR],
            Self::RecoveryCode => [RECOVERY_CODE_AMR, MFA_AMR],
            Self::Passkey {
                backup_eligible: true,
            } => ["swk", MFA_AMR],
            Self::Passkey {
                backup_eligible: false,
            } => ["hwk", MFA_AMR],
        }
    }
}

/// What a client answered a second-factor question with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Answer<'a> {
    /// A code from the authenticator app.
    Code(&'a str),
    /// A recovery code.
    RecoveryCode(&'a str),
}

/// What enrolment answers: the new secret, shown once.
pub(crate) struct Enrolment {
    /// Base32, for typing into an app.
    pub(crate) secret: String,
    /// The `otpauth://` URI a QR code carries.
    pub(crate) uri: String,
    /// The QR code as SVG (the `qr` feature).
    pub(crate) qr_svg: Option<String>,
}

/// Where a user's second factor stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Status {
    pub(crate) enabled: bool,
    pub(crate) pending: bool,
    pub(crate) recovery_codes_left: usize,
}

/// The configured second factor, ready to use.
pub(crate) struct SecondFactor {
    store: Arc<dyn TwoFactorStore>,
    ring: Keyring,
    issuer: String,
    policy: TwoFactorPolicy,
    remember: Option<i64>,
    acr: String,
    provider_mfa: bool,
    clock: Clock,
    trust: trust::TrustCookies,
    challenges: challenge::Challenges,
}

impl std::fmt::Debug for SecondFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondFactor")
            .field("issuer", &self.issuer)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl SecondFactor {
    /// The runtime form of `config` over `store`; a missing or short secret is the
    /// one-line error that says what to set.
    pub(crate) fn new(
        config: TwoFactor,
        store: Arc<dyn TwoFactorStore>,
        clock: Clock,
    ) -> Result<Self, ConfigError> {
        let short = || {
            ConfigError::Mismatch(
                "two_factor: TwoFactor::totp(..).secret(...) needs a secret of at least 32 bytes (a previous_secret too); keep it stable: it encrypts the users' TOTP secrets".into(),
            )
        };
        let secret = config.secret.as_ref().ok_or_else(short)?;
        let ring = config
            .previous
            .iter()
            .try_fold(Keyring::new(secret).ok_or_else(short)?, |ring, old| {
                ring.previous(old)
            })
            .ok_or_else(short)?;
        if config.issuer.trim().is_empty() || config.issuer.contains(':') {
            return Err(ConfigError::Mismatch(
                "two_factor: TwoFactor::totp(issuer) needs a non-empty issuer without `:` (authenticator apps show it as the account's name)".into(),
            ));
        }
        if config.remember_days == Some(0) {
            return Err(ConfigError::Mismatch(
                "two_factor: remember_device(0) remembers nothing: give a number of days, or leave it out".into(),
            ));
        }
        let remember = config
            .remember_days
            .map(|days| i64::from(days).saturating_mul(86_400));
        Ok(Self {
            trust: trust::TrustCookies::new(ring.clone(), config.cookie_secure),
            challenges: challenge::Challenges::new(Arc::clone(&store), config.cookie_secure),
            store,
            ring,
            issuer: config.issuer,
            policy: config.policy,
            remember,
            acr: config.acr,
            provider_mfa: config.provider_mfa,
            clock,
        })
    }

    /// Whether the policy requires a second factor of `user`.
    pub(crate) fn required_for<U: UserModel>(&self, user: &U) -> bool {
        match self.policy {
            TwoFactorPolicy::Optional => false,
            TwoFactorPolicy::Superusers => user.is_superuser(),
            TwoFactorPolicy::Everyone => true,
        }
    }

    /// The `acr` of sessions that passed a second factor.
    pub(crate) fn acr(&self) -> &str {
        &self.acr
    }

    /// Whether a provider's own `mfa` counts.
    pub(crate) fn trusts_provider_mfa(&self) -> bool {
        self.provider_mfa
    }

    /// The store.
    pub(crate) fn store(&self) -> &Arc<dyn TwoFactorStore> {
        &self.store
    }

    /// The `mfa_token` challenges.
    pub(crate) fn challenges(&self) -> &challenge::Challenges {
        &self.challenges
    }

    /// Whether `user_id` has a second factor on.
    pub(crate) async fn enabled(&self, user_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .store
            .get(user_id)
            .await?
            .is_some_and(|record| record.secret.is_some()))
    }

    /// Where `user_id`'s second factor stands.
    pub(crate) async fn status(&self, user_id: &str) -> Result<Status, StoreError> {
        let record = self.store.get(user_id).await?;
        let enabled = record.as_ref().is_some_and(|r| r.secret.is_some());
        Ok(Status {
            enabled,
            pending: record.as_ref().is_some_and(|r| r.pending.is_some()),
            recovery_codes_left: if enabled {
                self.store.recovery_codes_left(user_id).await?
            } else {
                0
            },
        })
    }

    /// A new secret for `user_id`, pending until a code from it is confirmed; an
    /// enabled one keeps working meanwhile. `account` is the login apps show.
    pub(crate) async fn enrol(&self, user_id: &str, account: &str) -> Result<Enrolment, ApiError> {
        let secret = totp::new_secret().map_err(|error| {
            tracing::error!(%error, "no randomness for a TOTP secret");
            ApiError::internal()
        })?;
        let sealed = seal::seal_secret(&self.ring, user_id, &secret).map_err(|error| {
            tracing::error!(?error, "could not seal a TOTP secret");
            ApiError::internal()
        })?;
        self.store.set_pending(user_id, &sealed).await?;
        let uri = totp::otpauth_uri(&self.issuer, account, &secret);
        Ok(Enrolment {
            secret: totp::base32(&secret),
            #[cfg(feature = "qr")]
            qr_svg: crate::two_factor::qr::svg(&uri),
            #[cfg(not(feature = "qr"))]
            qr_svg: None,
            uri,
        })
    }

    /// Confirms the pending secret with a code from it: 2FA is on, and the new
    /// recovery codes are answered (shown this once). `None`: nothing pending, or
    /// the code does not check.
    pub(crate) async fn confirm(
        &self,
        user_id: &str,
        code: &str,
    ) -> Result<Option<Vec<String>>, ApiError> {
        let Some(record) = self.store.get(user_id).await? else {
            return Ok(None);
        };
        let Some(pending) = record.pending else {
            return Ok(None);
        };
        let Some(secret) = seal::open_secret(&self.ring, user_id, &pending) else {
            tracing::error!(
                user_id,
                "a pending TOTP secret does not open: was the two-factor secret changed?"
            );
            return Ok(None);
        };
        let now = self.clock.now();
        let Some(step) = totp::Totp::DEFAULT.matching_step(&secret, code, now, None) else {
            return Ok(None);
        };
        let (codes, hashes) = self.new_recovery_codes(user_id)?;
        if !self
            .store
            .confirm(user_id, &pending, step, now, &hashes)
            .await?
        {
            return Ok(None);
        }
        Ok(Some(codes))
    }

    /// Checks `answer` for `user_id`: a TOTP code (one step of skew each way, and
    /// never a step at or before the last one accepted, on any instance: RFC 6238
    /// §5.2) or a recovery code (used up). `None`: it does not check, or 2FA is off.
    pub(crate) async fn check(
        &self,
        user_id: &str,
        answer: Answer<'_>,
    ) -> Result<Option<Factor>, ApiError> {
        let Some(record) = self.store.get(user_id).await? else {
            return Ok(None);
        };
        let Some(sealed) = record.secret else {
            return Ok(None);
        };
        match answer {
            Answer::Code(code) => {
                let Some(secret) = seal::open_secret(&self.ring, user_id, &sealed) else {
                    tracing::error!(
                        user_id,
                        "a TOTP secret does not open: was the two-factor secret changed?"
                    );
                    return Ok(None);
                };
                let now = self.clock.now();
                let Some(step) =
                    totp::Totp::DEFAULT.matching_step(&secret, code, now, record.last_step)
                else {
                    return Ok(None);
                };
                // Advanced atomically: of two requests with one code, one wins.
                Ok(self
                    .store
                    .advance_step(user_id, step)
                    .await?
                    .then_some(Factor::Otp))
            }
            Answer::RecoveryCode(code) => {
                let Some(normalized) = recovery::normalize(code) else {
                    return Ok(None);
                };
                // Under each key of the ring: codes hashed before a rotation still
                // match.
                for hash in recovery::lookup_hashes(&self.ring, user_id, &normalized) {
                    if self.store.use_recovery_code(user_id, &hash).await? {
                        return Ok(Some(Factor::RecoveryCode));
                    }
                }
                Ok(None)
            }
        }
    }

    /// New recovery codes for `user_id`, replacing the old ones.
    pub(crate) async fn regenerate(&self, user_id: &str) -> Result<Vec<String>, ApiError> {
        let (codes, hashes) = self.new_recovery_codes(user_id)?;
        self.store.replace_recovery_codes(user_id, &hashes).await?;
        Ok(codes)
    }

    fn new_recovery_codes(&self, user_id: &str) -> Result<(Vec<String>, Vec<String>), ApiError> {
        let codes = recovery::generate().map_err(|error| {
            tracing::error!(%error, "no randomness for recovery codes");
            ApiError::internal()
        })?;
        let hashes = codes
            .iter()
            .filter_map(|code| recovery::normalize(code))
            .map(|code| recovery::lookup_hash(&self.ring, user_id, &code))
            .collect();
        Ok((codes, hashes))
    }

    /// Turns 2FA off for `user_id`, with its recovery codes and remembered
    /// devices; whether it was on.
    pub(crate) async fn disable(&self, user_id: &str) -> Result<bool, StoreError> {
        let was = self.store.disable(user_id).await?;
        self.store
            .set_devices_trusted_after(user_id, self.clock.now())
            .await?;
        Ok(was)
    }

    /// Forgets every device `user_id` asked to remember.
    pub(crate) async fn forget_devices(&self, user_id: &str) -> Result<(), StoreError> {
        self.store
            .set_devices_trusted_after(user_id, self.clock.now())
            .await
    }

    /// The remembered-device cookie for `user_id`, when remembering is configured.
    pub(crate) fn remember_cookie(&self, user_id: &str) -> Option<axum::http::HeaderValue> {
        let lifetime = self.remember?;
        self.trust.cookie(user_id, self.clock.now(), lifetime)
    }

    /// Whether the request carries a remembered-device cookie of `user_id` that
    /// is still good: within its lifetime, and issued after the user's last
    /// "forget devices", 2FA change and session cut-off (a password change or
    /// reset, "log out everywhere").
    pub(crate) async fn remembered(
        &self,
        headers: &HeaderMap,
        user_id: &str,
        cutoff: Option<i64>,
    ) -> Result<bool, StoreError> {
        if self.remember.is_none() || !self.trust.presented(headers) {
            return Ok(false);
        }
        let Some(record) = self.store.get(user_id).await? else {
            return Ok(false);
        };
        let after = record.devices_trusted_after.max(cutoff.unwrap_or(i64::MIN));
        Ok(self.trust.verify(headers, user_id, self.clock.now(), after))
    }
}

/// Constant-time equality of two strings (hashes of cookies, say).
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}
