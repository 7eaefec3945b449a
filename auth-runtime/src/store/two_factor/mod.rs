//! Two-factor authentication as stored: each user's sealed TOTP secret and the last
//! time step it accepted ([`TwoFactorRecord`]), their recovery codes' lookup hashes,
//! and the sign-in challenges between the first factor and the second
//! ([`MfaChallenge`]); the [`TwoFactorStore`] trait that keeps them, in memory
//! ([`MemoryTwoFactor`]) and in the store's database (tables `warden_two_factor`,
//! `warden_recovery_code`, `warden_mfa_challenge`, schema step 5).
//!
//! Every operation that must hold across instances is one atomic statement (or one
//! transaction): a time step is accepted once (RFC 6238 §5.2), a recovery code is
//! used once, a challenge counts its tries in the store and is taken once.

mod memory;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod sql;

use async_trait::async_trait;

pub use memory::MemoryTwoFactor;

use super::StoreError;

/// A user's two-factor state. Its secrets are sealed (see
/// [`two_factor::seal`](crate::two_factor::seal)); its `Debug` never prints them.
#[derive(Clone, PartialEq, Eq)]
pub struct TwoFactorRecord {
    /// The user's id, as text.
    pub user_id: String,
    /// The sealed TOTP secret: `Some` while two-factor authentication is on.
    pub secret: Option<String>,
    /// A sealed secret awaiting its first code: an enrolment, or a re-enrolment
    /// while on (the confirmed secret stays until the new one is confirmed).
    pub pending: Option<String>,
    /// The last TOTP time step accepted: it and every earlier one are refused.
    pub last_step: Option<i64>,
    /// When the current secret was confirmed (Unix seconds).
    pub enabled_at: Option<i64>,
    /// "Remember this device" trust issued before this time (Unix seconds) is void.
    pub devices_trusted_after: i64,
}

impl TwoFactorRecord {
    /// Whether two-factor authentication is on: a secret was confirmed.
    pub fn is_enabled(&self) -> bool {
        self.secret.is_some()
    }
}

/// Shows a sealed value as present or absent, never its text.
fn sealed(value: Option<&String>) -> &'static str {
    match value {
        Some(_) => "Some([SEALED])",
        None => "None",
    }
}

impl std::fmt::Debug for TwoFactorRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwoFactorRecord")
            .field("user_id", &self.user_id)
            .field("secret", &format_args!("{}", sealed(self.secret.as_ref())))
            .field(
                "pending",
                &format_args!("{}", sealed(self.pending.as_ref())),
            )
            .field("last_step", &self.last_step)
            .field("enabled_at", &self.enabled_at)
            .field("devices_trusted_after", &self.devices_trusted_after)
            .finish()
    }
}

/// A sign-in that passed its first factor and waits for the second: what the
/// `mfa_token` the client holds names. Single use, short-lived, with a limited
/// number of tries counted in the store (so across instances).
#[derive(Clone, PartialEq, Eq)]
pub struct MfaChallenge {
    /// The SHA-256 of the `mfa_token` (`store::token_hash`): the token itself is never
    /// stored.
    pub token_hash: String,
    /// The user's id, as text.
    pub user_id: String,
    /// The backend signed in through: the challenge completes there only.
    pub backend: String,
    /// What the first factor proved (RFC 8176 `amr` values, none with a space).
    pub amr: Vec<String>,
    /// The hash of the browser cookie it is bound to (cookie transport), if any.
    pub binding: Option<String>,
    /// When it expires (Unix seconds): from then on it is refused.
    pub expires_at: i64,
    /// Second factors tried on it so far.
    pub tries: u32,
}

impl std::fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaChallenge")
            .field("token_hash", &format_args!("[REDACTED]"))
            .field("user_id", &self.user_id)
            .field("backend", &self.backend)
            .field("amr", &self.amr)
            .field(
                "binding",
                &format_args!(
                    "{}",
                    if self.binding.is_some() {
                        "Some([REDACTED])"
                    } else {
                        "None"
                    }
                ),
            )
            .field("expires_at", &self.expires_at)
            .field("tries", &self.tries)
            .finish()
    }
}

/// Where two-factor state lives, for every instance. Secrets arrive sealed and
/// recovery codes as lookup hashes: a store never sees either in clear.
///
/// `store::contract::check` (cargo feature `store-contract`) runs the cases every
/// implementation must pass, `store::contract::two_factor_races` the concurrent
/// ones.
#[async_trait]
pub trait TwoFactorStore: Send + Sync + 'static {
    /// The user's record; `None` if the user never enrolled (or disabled it).
    async fn get(&self, user_id: &str) -> Result<Option<TwoFactorRecord>, StoreError>;
    /// Upserts the pending secret (keeps a confirmed one: re-enrolment replaces it
    /// only on confirm).
    async fn set_pending(&self, user_id: &str, sealed: &str) -> Result<(), StoreError>;
    /// Atomically: if the pending secret still equals `pending`, it becomes the
    /// secret, `last_step = step`, `enabled_at = now`, `devices_trusted_after = now`
    /// (never moved back), and the user's recovery codes are replaced by `codes`
    /// (lookup hashes). Whether it did (false: another confirmation or a new
    /// enrolment came first).
    async fn confirm(
        &self,
        user_id: &str,
        pending: &str,
        step: i64,
        now: i64,
        codes: &[String],
    ) -> Result<bool, StoreError>;
    /// `UPDATE … SET last_step = ? WHERE user_id = ? AND secret IS NOT NULL AND
    /// (last_step IS NULL OR last_step < ?)`: whether this step was accepted now
    /// (false: the step or a later one was used already, on any instance, or
    /// two-factor authentication is off).
    async fn advance_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError>;
    /// Replaces the user's recovery codes with `codes` (lookup hashes), atomically.
    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        codes: &[String],
    ) -> Result<(), StoreError>;
    /// Deletes the code if the user has it: single use, atomic (of two concurrent
    /// uses, one wins). Whether it did.
    async fn use_recovery_code(&self, user_id: &str, code_hash: &str) -> Result<bool, StoreError>;
    /// How many recovery codes the user has left.
    async fn recovery_codes_left(&self, user_id: &str) -> Result<usize, StoreError>;
    /// Voids "remember this device" trust issued before `at`, for a user with a
    /// record (without one there is nothing to void: confirming a secret voids
    /// every earlier trust). Never moves the time back: of two instances' calls, the
    /// later time stands.
    async fn set_devices_trusted_after(&self, user_id: &str, at: i64) -> Result<(), StoreError>;
    /// Removes the secret, the pending secret and the recovery codes; whether 2FA
    /// was on.
    async fn disable(&self, user_id: &str) -> Result<bool, StoreError>;
    /// Forgets everything of a deleted user: the record, the recovery codes and the
    /// open challenges (an integer id may be given again to a new user).
    async fn forget_user(&self, user_id: &str) -> Result<(), StoreError>;
    /// Stores a new challenge.
    async fn open_challenge(&self, challenge: &MfaChallenge) -> Result<(), StoreError>;
    /// Atomically counts one try: `UPDATE … SET tries = tries + 1 WHERE token_hash = ?
    /// AND expires_at > now AND tries < max_tries`, and returns the challenge as it
    /// now is; `None` if unknown, expired or out of tries.
    async fn try_challenge(
        &self,
        token_hash: &str,
        now: i64,
        max_tries: u32,
    ) -> Result<Option<MfaChallenge>, StoreError>;
    /// Deletes it: whether this call took it (single use under concurrency).
    async fn take_challenge(&self, token_hash: &str) -> Result<bool, StoreError>;
    /// Drops challenges expired at `now`; how many.
    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::contract;
    use std::sync::Arc;

    #[tokio::test]
    async fn memory_keeps_the_contract() {
        contract::two_factor(&MemoryTwoFactor::new(), "1", "2").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory_races_have_one_winner() {
        contract::two_factor_races(Arc::new(MemoryTwoFactor::new()), "racer").await;
    }

    /// A file database: several pooled connections, so the races reach SQLite's
    /// locking, not one connection's queue.
    #[cfg(feature = "sqlite")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_races_have_one_winner() {
        use crate::store::UserStore;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let store = crate::SqliteStore::<crate::User>::open(&url).await.unwrap();
        let two_factor = store.two_factor().unwrap();
        contract::two_factor(two_factor.as_ref(), "1", "2").await;
        contract::two_factor_races(two_factor, "racer").await;
    }

    #[test]
    fn debug_never_prints_secrets_or_token_hashes() {
        let record = TwoFactorRecord {
            user_id: "u1".into(),
            secret: Some("v1.kid.SECRETSEALED".into()),
            pending: Some("v1.kid.PENDINGSEALED".into()),
            last_step: Some(7),
            enabled_at: Some(100),
            devices_trusted_after: 100,
        };
        let printed = format!("{record:?}");
        assert!(!printed.contains("SECRETSEALED") && !printed.contains("PENDINGSEALED"));
        assert!(printed.contains("u1") && printed.contains("[SEALED]"));
        assert!(record.is_enabled());
        let challenge = MfaChallenge {
            token_hash: "TOKENHASH".into(),
            user_id: "u1".into(),
            backend: "jwt".into(),
            amr: vec!["pwd".into()],
            binding: Some("BINDINGHASH".into()),
            expires_at: 400,
            tries: 1,
        };
        let printed = format!("{challenge:?}");
        assert!(!printed.contains("TOKENHASH") && !printed.contains("BINDINGHASH"));
        assert!(printed.contains("pwd") && printed.contains("jwt"));
    }
}
