//! Password hashing: Argon2id for new hashes, Argon2 and bcrypt hashes (FastAPI
//! Users' pwdlib formats) verified and upgraded, all on a fixed set of hashing
//! workers with a bounded queue.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

mod workers;

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Argon2, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use workers::{Lane, Scratch, Workers};

use crate::ConfigError;

/// A stored hash beginning with this matches no password, silently: an account whose
/// registration is still hashing, or one an application locks by hand (as `!` locks
/// a Unix account in `/etc/shadow`).
pub const LOCKED_PREFIX: &str = "!";

/// Longest password accepted, in bytes. Long passphrases fit; a megabyte does not
/// reach the hasher (OWASP Password Storage Cheat Sheet: passwords used as typed, a quick refusal for huge ones).
pub const MAX_PASSWORD_BYTES: usize = 4096;

/// Argon2id cost and pool size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordHasherConfig {
    /// Memory in KiB; OWASP's minimum for Argon2id is 19456 (19 MiB).
    pub memory_kib: u32,
    /// Passes over memory; OWASP's minimum with 19 MiB is 2.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// Hashing workers: threads that each hash in a memory block of their own,
    /// reused from hash to hash, so hashing memory is at most `max_concurrent` ×
    /// `memory_kib` (plus one hash's worth while a heavier legacy hash is verified).
    /// Logins beyond wait (asynchronously) for a worker, so a login flood cannot take
    /// every core from the handlers that serve guarded routes.
    pub max_concurrent: usize,
    /// Hashes that may wait for a slot. Beyond them a hash is refused at once
    /// ([`PasswordError::Busy`], answered 503 with `Retry-After`) instead of queueing
    /// behind a flood: a real user's login either starts soon or is told to retry.
    pub max_waiting: usize,
    /// Of the `max_concurrent + max_waiting` admitted hashes, this many only
    /// verifications (logins) may take, and workers take verifications before new
    /// hashes: a flood of registrations, which each hash a new password, fills its
    /// own share and is refused (503) while real users' logins are still admitted
    /// and run next. Capped so that new hashes keep at least one slot. Default 8.
    pub reserved_for_logins: usize,
}

impl Default for PasswordHasherConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
            max_concurrent: cores.saturating_sub(1).max(1),
            // About a second of work per slot at OWASP's cost: a queue that long
            // still answers a person promptly.
            max_waiting: 32,
            reserved_for_logins: 8,
        }
    }
}

/// The outcome of a verification. `Debug` does not show the new hash.
#[derive(Clone, PartialEq, Eq)]
pub struct Verification {
    /// Whether the password matched.
    pub valid: bool,
    /// A fresh Argon2id hash to store, when the password matched an outdated hash
    /// (bcrypt, another Argon2 variant, or other Argon2 parameters).
    pub upgraded: Option<String>,
}

impl std::fmt::Debug for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verification")
            .field("valid", &self.valid)
            .field("upgraded", &self.upgraded.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// Why a password could not be hashed or verified.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// Every slot is busy and the queue is full: answered 503 with `Retry-After`.
    #[error("the password hasher is busy: {0} hashes are running or waiting")]
    Busy(usize),
    /// The hasher pool failed (a panicked or cancelled blocking task).
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Hashes and verifies passwords off the async executor.
///
/// Cloning is cheap; clones share the pool.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    /// `max_concurrent` threads, each hashing in memory of its own.
    workers: Workers,
    /// One per hash running or waiting; none left means the queue is full.
    admission: Arc<Semaphore>,
    /// The slots only verifications take once `admission` has none left.
    reserve: Arc<Semaphore>,
    admitted: usize,
    reserved: usize,
    /// A hash of a random password with the current parameters: unknown users are
    /// verified against it, so they cost what a real user costs (ASVS 6.3.8).
    dummy_hash: String,
    /// What verifying the dummy hash costs: this hasher's own parameters.
    own_cost: Duration,
    #[cfg(feature = "test-clock")]
    probe: probe::Probe,
}

/// What verifying the hashes FastAPI Users writes costs on this machine: pwdlib's
/// Argon2 (m=65536, t=3, p=4) and bcrypt at 12 rounds (passlib's and bcrypt's
/// default). Measured once per process, on a hashing worker, at the first
/// verification; `None` until then.
static LEGACY_COST: OnceLock<Duration> = OnceLock::new();

fn measure_legacy_cost(scratch: &mut Scratch) -> Duration {
    *LEGACY_COST.get_or_init(|| {
        const FASTAPI_ARGON2: &str = "$argon2id$v=19$m=65536,t=3,p=4$bAbJK1z4ZFnbmpq2GmJCQQ$V86jp9RLvl/QUrR6I/LGAIWKaZ6Fc0iRGpnwUuGcUWM";
        let start = Instant::now();
        verify_any("calibration", FASTAPI_ARGON2, scratch);
        let argon2 = start.elapsed();
        // Verifying a bcrypt hash is hashing with its salt: the same work.
        let start = Instant::now();
        let _ = bcrypt::hash_with_salt("calibration", 12, [0; 16]);
        argon2.max(start.elapsed())
    })
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.inner.params)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// A hasher with OWASP's Argon2id parameters.
    pub fn new() -> Result<Self, ConfigError> {
        Self::with_config(PasswordHasherConfig::default())
    }

    /// A hasher with explicit parameters (never below OWASP's minimum).
    pub fn with_config(config: PasswordHasherConfig) -> Result<Self, ConfigError> {
        let bad = |problem: String| ConfigError::BadOption {
            backend: "-".into(),
            option: "password hasher",
            problem,
        };
        if config.memory_kib < 19 * 1024 || config.iterations < 2 {
            return Err(bad(
                "Argon2id needs at least 19456 KiB of memory and 2 iterations (OWASP)".into(),
            ));
        }
        if config.max_concurrent == 0 {
            return Err(bad("max_concurrent must be at least 1".into()));
        }
        let admitted = config.max_concurrent.saturating_add(config.max_waiting);
        // New hashes keep at least one slot, whatever the reserve asks for.
        let reserved = config.reserved_for_logins.min(admitted - 1);
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            Some(32),
        )
        .map_err(|e| bad(e.to_string()))?;
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| bad(e.to_string()))?;
        let start = Instant::now();
        let dummy_hash = hash_with(&params, &random, &mut Scratch::new(0)).map_err(bad)?;
        let own_cost = start.elapsed();
        let workers = Workers::start(config.max_concurrent, params.block_count()).map_err(bad)?;
        Ok(Self {
            inner: Arc::new(Inner {
                params,
                workers,
                admission: Arc::new(Semaphore::new(admitted - reserved)),
                reserve: Arc::new(Semaphore::new(reserved)),
                admitted,
                reserved,
                dummy_hash,
                own_cost,
                #[cfg(feature = "test-clock")]
                probe: probe::Probe::default(),
            }),
        })
    }

    /// Hashes a password with Argon2id.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let password = Zeroizing::new(password);
        self.run(Lane::Hash, move |inner, scratch| {
            #[cfg(feature = "test-clock")]
            inner.probe.wait_while_held();
            hash_with(&inner.params, password.as_bytes(), scratch)
        })
        .await?
        .map_err(PasswordError::Failed)
    }

    /// Verifies a password against a stored hash; on success with an outdated hash,
    /// also returns its replacement. A refused password takes at least the
    /// [refusal floor](Self::refusal_floor), whatever format the hash has.
    pub async fn verify(
        &self,
        password: String,
        hash: String,
    ) -> Result<Verification, PasswordError> {
        let password = Zeroizing::new(password);
        let started = Instant::now();
        let verification = self
            .run(Lane::Verify, move |inner, scratch| {
                measure_legacy_cost(scratch);
                let valid = verify_any(password.as_str(), &hash, scratch).unwrap_or_else(|| {
                    verify_any(password.as_str(), &inner.dummy_hash, scratch);
                    false
                });
                let upgraded = if valid && needs_upgrade(&hash, &inner.params) {
                    hash_with(&inner.params, password.as_bytes(), scratch).ok()
                } else {
                    None
                };
                Verification { valid, upgraded }
            })
            .await?;
        if !verification.valid {
            self.pad_refusal(started).await;
        }
        Ok(verification)
    }

    /// Spends what a refused verification costs, for a user that does not exist.
    pub async fn verify_dummy(&self, password: String) -> Result<(), PasswordError> {
        let password = Zeroizing::new(password);
        let started = Instant::now();
        self.run(Lane::Verify, move |inner, scratch| {
            measure_legacy_cost(scratch);
            verify_any(password.as_str(), &inner.dummy_hash, scratch);
        })
        .await?;
        self.pad_refusal(started).await;
        Ok(())
    }

    /// The least time a refused password takes: the slowest verification of any
    /// hash format an account may hold (this hasher's Argon2id, FastAPI Users'
    /// Argon2, bcrypt at 12 rounds; a database holding heavier legacy hashes should
    /// raise its Argon2id cost to match). An unknown account, a wrong
    /// password for a fresh account and one for an account still holding a FastAPI
    /// Users hash are then refused in the same time, so the time says nothing about
    /// which accounts exist or were imported (ASVS 6.3.8). The wait is a timer, not
    /// work: it holds no hashing slot and no core.
    pub fn refusal_floor(&self) -> Duration {
        let legacy = LEGACY_COST.get().copied().unwrap_or_default();
        self.inner.own_cost.max(legacy)
    }

    /// Waits until `started` plus the [refusal floor](Self::refusal_floor): a
    /// refusal whose password was right (an inactive account's, say) then takes as
    /// long as a wrong password's, so the time does not tell that the password was
    /// right (ASVS 6.3.8). Returns at once when the floor has passed.
    pub async fn pad_refusal(&self, started: Instant) {
        #[cfg(feature = "test-clock")]
        self.inner.probe.padded();
        let until = started + self.refusal_floor();
        tokio::time::sleep_until(until.into()).await;
    }

    /// Test-only (`test-clock` feature): while `held`, every new hash (not a
    /// verification) waits on its worker before hashing, so a test can fill the
    /// queue with registrations without depending on how fast a hash is. Release
    /// it before the test ends: a held hash holds its worker thread.
    #[cfg(feature = "test-clock")]
    pub fn hold_hashes(&self, held: bool) {
        self.inner.probe.hold(held);
    }

    /// Test-only (`test-clock` feature): how many refusals were
    /// [padded](Self::pad_refusal) to the refusal floor.
    #[cfg(feature = "test-clock")]
    pub fn refusals_padded(&self) -> usize {
        self.inner
            .probe
            .padded
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Hashes running or waiting for a worker now.
    pub fn in_flight(&self) -> usize {
        let inner = &self.inner;
        (inner.admitted - inner.reserved - inner.admission.available_permits())
            + (inner.reserved - inner.reserve.available_permits())
    }

    /// Runs `work` on a hashing worker, if the queue has room: a verification may
    /// take one of the slots reserved for logins, a new hash may not.
    async fn run<T, F>(&self, lane: Lane, work: F) -> Result<T, PasswordError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, &mut Scratch) -> T + Send + 'static,
    {
        let busy = |_| PasswordError::Busy(self.inner.admitted);
        let admitted = match Arc::clone(&self.inner.admission).try_acquire_owned() {
            Ok(admitted) => admitted,
            Err(_) if lane == Lane::Verify => Arc::clone(&self.inner.reserve)
                .try_acquire_owned()
                .map_err(busy)?,
            Err(full) => return Err(busy(full)),
        };
        let inner = Arc::clone(&self.inner);
        self.inner
            .workers
            .run(lane, move |scratch| {
                // Held until the work ends, even if the request that asked is dropped.
                let _admitted = admitted;
                work(&inner, scratch)
            })
            .await
    }
}

/// What tests observe and control of a hasher (`test-clock` feature).
#[cfg(feature = "test-clock")]
mod probe {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex};

    #[derive(Default)]
    pub(super) struct Probe {
        held: Mutex<bool>,
        released: Condvar,
        pub(super) padded: AtomicUsize,
    }

    impl Probe {
        pub(super) fn hold(&self, held: bool) {
            if let Ok(mut state) = self.held.lock() {
                *state = held;
            }
            self.released.notify_all();
        }

        /// Blocks the worker while hashes are held.
        pub(super) fn wait_while_held(&self) {
            let Ok(mut held) = self.held.lock() else {
                return;
            };
            while *held {
                held = match self.released.wait(held) {
                    Ok(held) => held,
                    Err(_) => return,
                };
            }
        }

        pub(super) fn padded(&self) {
            self.padded.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// An Argon2id hash of `password` in PHC form, computed in `scratch`'s memory.
fn hash_with(params: &Params, password: &[u8], scratch: &mut Scratch) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    let mut output = [0u8; 32];
    let argon2 = Argon2::new(argon2::Algorithm::Argon2id, Version::V0x13, params.clone());
    argon2
        .hash_password_into_with_memory(
            password,
            &salt,
            &mut output,
            scratch.blocks(params.block_count()),
        )
        .map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    let output = Output::new(&output).map_err(|e| e.to_string())?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        salt.as_str(),
        output
    ))
}

/// Verifies `password` against a stored Argon2 hash (any variant and parameters)
/// in `scratch`'s memory; `None` for a hash that does not parse.
fn verify_argon2(password: &[u8], hash: &str, scratch: &mut Scratch) -> Option<bool> {
    let parsed = PasswordHash::new(hash).ok()?;
    let algorithm = argon2::Algorithm::try_from(parsed.algorithm).ok()?;
    let version = match parsed.version {
        Some(version) => Version::try_from(version).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).ok()?;
    let expected = parsed.hash?;
    let mut salt = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
    let mut output = vec![0u8; expected.len()];
    let blocks = params.block_count();
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut output, scratch.blocks(blocks))
        .ok()?;
    Some(bool::from(output.ct_eq(expected.as_bytes())))
}

const BCRYPT_MAX_BYTES: usize = 72;

fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2x$", "$2y$"]
        .iter()
        .any(|prefix| hash.starts_with(prefix))
}

/// Verifies the password exactly as typed. bcrypt reads at most 72 bytes and stops at
/// NUL in C implementations; rather than let a different password match, longer
/// passwords and passwords with NUL never match a bcrypt hash (Python's bcrypt 5,
/// which FastAPI Users uses, refuses to hash them at all).
///
/// `None` when the answer is "no" without any hashing (a password bcrypt cannot take,
/// a hash we cannot read): the caller then spends a dummy verification, so such
/// accounts do not answer faster than the others (ASVS 6.3.8).
fn verify_any(password: &str, hash: &str, scratch: &mut Scratch) -> Option<bool> {
    if hash.starts_with("$argon2") {
        return verify_argon2(password.as_bytes(), hash, scratch);
    }
    if is_bcrypt(hash) {
        if password.len() > BCRYPT_MAX_BYTES || password.contains('\0') {
            return None;
        }
        return bcrypt::verify(password.as_bytes(), hash).ok();
    }
    if !hash.starts_with(LOCKED_PREFIX) {
        tracing::warn!("stored password hash has an unknown format; the login fails");
    }
    None
}

fn needs_upgrade(hash: &str, current: &Params) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return true;
    };
    if parsed.algorithm != argon2::Algorithm::Argon2id.ident()
        || parsed.version != Some(Version::V0x13.into())
    {
        return true;
    }
    // Any other parameters, stronger ones included, are re-hashed (as pwdlib does):
    // hashes converge on one cost, so the time a login takes says nothing about the
    // account, and the dummy verification of unknown users costs the same.
    match Params::try_from(&parsed) {
        Ok(params) => {
            params.m_cost() != current.m_cost()
                || params.t_cost() != current.t_cost()
                || params.p_cost() != current.p_cost()
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parameters FastAPI Users 15 writes (pwdlib with argon2-cffi defaults).
    const FASTAPI_ARGON2: &str = "$argon2id$v=19$m=65536,t=3,p=4$bAbJK1z4ZFnbmpq2GmJCQQ$V86jp9RLvl/QUrR6I/LGAIWKaZ6Fc0iRGpnwUuGcUWM";

    fn hasher() -> PasswordHasher {
        PasswordHasher::new().unwrap()
    }

    #[tokio::test]
    async fn hash_is_argon2id_with_owasp_parameters_and_verifies() {
        let hasher = hasher();
        let hash = hasher.hash("correct horse".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let ok = hasher
            .verify("correct horse".into(), hash.clone())
            .await
            .unwrap();
        assert_eq!(
            ok,
            Verification {
                valid: true,
                upgraded: None
            }
        );
        let bad = hasher
            .verify("correct horsE".into(), hash.clone())
            .await
            .unwrap();
        assert!(!bad.valid);
        let trimmed = hasher.verify("correct horse ".into(), hash).await.unwrap();
        assert!(!trimmed.valid);
    }

    #[tokio::test]
    async fn bcrypt_verifies_upgrades_and_never_truncates() {
        let hasher = hasher();
        let long = "a".repeat(72);
        let hash = bcrypt::hash(&long, 4).unwrap();
        let ok = hasher.verify(long.clone(), hash.clone()).await.unwrap();
        assert!(ok.valid);
        assert!(
            ok.upgraded
                .as_deref()
                .is_some_and(|h| h.starts_with("$argon2id$"))
        );
        // Same first 72 bytes: bcrypt would say yes; we say no.
        let longer = format!("{long}b");
        assert!(!hasher.verify(longer, hash).await.unwrap().valid);
        let with_nul = bcrypt::hash("abc", 4).unwrap();
        assert!(
            !hasher
                .verify("abc\0def".into(), with_nul)
                .await
                .unwrap()
                .valid
        );
    }

    #[test]
    fn hashes_with_other_parameters_or_variants_are_upgraded() {
        let params = Params::new(19 * 1024, 2, 1, Some(32)).unwrap();
        assert!(needs_upgrade(FASTAPI_ARGON2, &params));
        assert!(!needs_upgrade(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            &params
        ));
        assert!(needs_upgrade(
            "$argon2i$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            &params
        ));
        assert!(needs_upgrade(
            "$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            &params
        ));
    }

    #[tokio::test]
    async fn our_hashes_are_standard_phc_strings() {
        use argon2::PasswordVerifier;
        let hash = hasher().hash("interop".into()).await.unwrap();
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"interop", &parsed)
                .is_ok()
        );
    }

    /// Every supported format, right and wrong passwords, all at once on two
    /// workers: each answer is the right one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_verifications_of_every_format_are_right() {
        use argon2::PasswordHasher as _;
        let hasher = PasswordHasher::with_config(PasswordHasherConfig {
            max_concurrent: 2,
            max_waiting: 64,
            ..Default::default()
        })
        .unwrap();
        let ours = hasher.hash("ours-password".into()).await.unwrap();
        let salt = SaltString::encode_b64(b"sixteen-byte-slt").unwrap();
        let argon2i = Argon2::new(
            argon2::Algorithm::Argon2i,
            Version::V0x13,
            Params::new(8 * 1024, 2, 2, None).unwrap(),
        )
        .hash_password(b"argon2i-password", &salt)
        .unwrap()
        .to_string();
        let bcrypt = bcrypt::hash("bcrypt-password", 4).unwrap();
        // FastAPI Users 15's own hash of this password (pwdlib, m=65536, t=3, p=4).
        let fastapi = "$argon2id$v=19$m=65536,t=3,p=4$Oq0esOOTmMSqkVayhAqN4A$YJnKg4tO8Plht3iVKFwVZf6hEuUszxRembJNec9XYOg";
        let cases = [
            (fastapi, "legacy-password-3"),
            (ours.as_str(), "ours-password"),
            (argon2i.as_str(), "argon2i-password"),
            (bcrypt.as_str(), "bcrypt-password"),
        ];
        let mut checks = Vec::new();
        for round in 0..3 {
            for (hash, password) in cases {
                for right in [true, false] {
                    let hasher = hasher.clone();
                    let (hash, password) = (hash.to_owned(), password.to_owned());
                    let typed = if right {
                        password.clone()
                    } else {
                        format!("{password}!")
                    };
                    checks.push(tokio::spawn(async move {
                        let valid = hasher.verify(typed, hash.clone()).await.unwrap().valid;
                        (round, hash, right, valid)
                    }));
                }
            }
        }
        for check in checks {
            let (round, hash, right, valid) = check.await.unwrap();
            assert_eq!(valid, right, "round {round}: {hash}");
        }
    }

    #[test]
    fn weak_parameters_are_refused() {
        let config = PasswordHasherConfig {
            memory_kib: 1024,
            ..Default::default()
        };
        assert!(PasswordHasher::with_config(config).is_err());
    }

    #[tokio::test]
    async fn unknown_formats_never_match() {
        let hasher = hasher();
        for hash in ["", "plaintext", "$1$abc$def", "$argon2id$garbage"] {
            assert!(
                !hasher
                    .verify("plaintext".into(), hash.into())
                    .await
                    .unwrap()
                    .valid
            );
        }
    }
}
