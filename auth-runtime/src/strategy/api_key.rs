//! API keys (personal access tokens) as a strategy: a key is looked up by its
//! public id in the store on every request (the store is the truth, so a
//! revocation, a deletion or a deactivation holds on every instance at once) and
//! its secret compared, in constant time, with the stored SHA-256.
//!
//! A key reads `wdn_` + 12 characters of public id + 43 of secret + 6 of checksum,
//! all base62 (no `_`, so the whole key is one word for a double-click and for
//! secret scanners, which match the prefix and verify the checksum offline, as
//! GitHub's tokens allow). 43 base62 characters hold 256 bits (62^43 > 2^256). The
//! checksum (the first 32 bits of the SHA-256 of the rest) is checked before any
//! lookup, so a mistyped or truncated key costs no query.
//!
//! Why SHA-256 and not a keyed hash: the secret is 256 random bits, so no
//! dictionary or brute force applies to its hash; a keyed hash would add a server
//! secret whose rotation ends every key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sha2::Digest as _;
use subtle::ConstantTimeEq as _;

use super::{Grant, Issued, Strategy, StrategyError, TokenInfo};
use crate::store::{ApiKeyStore, StoreError, token_hash};

/// What every key starts with.
pub const API_KEY_PREFIX: &str = "wdn_";
/// Characters of the public id.
pub const API_KEY_ID_LEN: usize = 12;
/// Characters of the secret: 43 base62 characters hold 256 bits.
const SECRET_LEN: usize = 43;
/// Characters of the checksum: 62^6 > 2^32.
const CHECK_LEN: usize = 6;
/// The length of every key.
pub const API_KEY_LEN: usize = API_KEY_PREFIX.len() + API_KEY_ID_LEN + SECRET_LEN + CHECK_LEN;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Last uses are written at most this often per key (seconds).
const TOUCH_EVERY: i64 = 60;

/// `n` random base62 characters, unbiased (bytes of 248 and above are drawn
/// again: 248 = 4 × 62).
fn random_base62(n: usize) -> Result<String, String> {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for byte in crate::random::bytes::<64>()? {
            if out.len() == n {
                break;
            }
            if byte < 248 {
                out.push(char::from(BASE62[usize::from(byte % 62)]));
            }
        }
    }
    Ok(out)
}

/// The checksum of `body` (`wdn_` + id + secret).
fn checksum(body: &str) -> String {
    let digest = sha2::Sha256::digest(body.as_bytes());
    let mut value = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// A new key: the whole key (shown once), its public id and the hash to store.
#[derive(Clone, PartialEq, Eq)]
pub struct NewKey {
    /// The key, to show once and never store.
    pub key: String,
    /// The public id.
    pub id: String,
    /// The SHA-256 of the secret, base64url: what is stored.
    pub secret_hash: String,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Makes a new key from the operating system's generator.
///
/// ```
/// use warden_runtime::strategy::{API_KEY_LEN, generate_key, parse_key};
/// let new = generate_key()?;
/// assert!(new.key.starts_with("wdn_") && new.key.len() == API_KEY_LEN);
/// assert_eq!(parse_key(&new.key).map(|(id, _)| id), Some(new.id.as_str()));
/// # Ok::<(), String>(())
/// ```
pub fn generate_key() -> Result<NewKey, String> {
    let id = random_base62(API_KEY_ID_LEN)?;
    let secret = random_base62(SECRET_LEN)?;
    let body = format!("{API_KEY_PREFIX}{id}{secret}");
    let key = format!("{body}{}", checksum(&body));
    Ok(NewKey {
        key,
        id,
        secret_hash: token_hash(&secret),
    })
}

/// The public id and secret of a well-formed key whose checksum holds; `None` for
/// anything else (no lookup is needed to refuse it).
///
/// ```
/// use warden_runtime::strategy::{generate_key, parse_key};
/// let key = generate_key()?.key;
/// let mut typo = key.clone().into_bytes();
/// typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
/// assert!(parse_key(&String::from_utf8(typo).unwrap()).is_none());
/// assert!(parse_key("wdn_short").is_none());
/// # Ok::<(), String>(())
/// ```
pub fn parse_key(key: &str) -> Option<(&str, &str)> {
    if key.len() != API_KEY_LEN || !key.starts_with(API_KEY_PREFIX) {
        return None;
    }
    let rest = &key[API_KEY_PREFIX.len()..];
    if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let (body, check) = key.split_at(API_KEY_LEN - CHECK_LEN);
    if !bool::from(checksum(body).as_bytes().ct_eq(check.as_bytes())) {
        return None;
    }
    let (id, secret) = rest[..API_KEY_ID_LEN + SECRET_LEN].split_at(API_KEY_ID_LEN);
    Some((id, secret))
}

/// What a request authenticated with an API key may do: the key's id and scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyAccess {
    /// The key's public id.
    pub id: String,
    /// The scopes it was created with.
    pub scopes: Vec<String>,
}

impl KeyAccess {
    /// Whether the key holds `scope`.
    pub fn holds(&self, scope: &str) -> bool {
        self.scopes.iter().any(|held| held == scope)
    }
}

/// How many requests one key may make per minute on one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRateLimit {
    /// Requests per minute; 0: no limit.
    pub per_minute: u32,
}

impl Default for KeyRateLimit {
    /// 600 a minute (ten a second, sustained).
    fn default() -> Self {
        Self { per_minute: 600 }
    }
}

/// Per-key fixed windows of a minute, in this instance's memory: with `n`
/// instances behind a balancer a key may make up to `n` times the limit. Windows
/// older than a minute are dropped as the map grows.
#[derive(Debug, Default)]
struct Windows(Mutex<HashMap<String, (i64, u32)>>);

impl Windows {
    /// `Err(seconds to wait)` when the key has spent this minute's requests.
    fn take(&self, id: &str, now: i64, limit: u32) -> Result<(), u32> {
        if limit == 0 {
            return Ok(());
        }
        let window = now - now.rem_euclid(60);
        let mut windows = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| *start >= window);
        }
        let entry = windows.entry(id.to_owned()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1 >= limit {
            return Err(u32::try_from(window + 60 - now).unwrap_or(60).max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// The strategy of a backend declared `strategy = "api_key"`. It issues no token
/// (keys are created by `POST /users/me/api-keys`), so the backend serves no
/// login, logout or refresh route.
pub struct ApiKeyStrategy {
    keys: Arc<dyn ApiKeyStore>,
    clock: crate::clock::Clock,
    limit: KeyRateLimit,
    windows: Windows,
    /// When each key's last use was last written, to write it once a minute.
    touched: Mutex<HashMap<String, i64>>,
    /// Where a revoked key's use is reported.
    audit: crate::audit::Audit,
}

impl std::fmt::Debug for ApiKeyStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyStrategy")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl ApiKeyStrategy {
    /// Keys in `keys` (a store's [`api_keys`](crate::UserStore::api_keys)), each
    /// limited to `limit` requests a minute on this instance.
    pub fn new(keys: Arc<dyn ApiKeyStore>, limit: KeyRateLimit) -> Self {
        Self {
            keys,
            clock: crate::clock::Clock::system(),
            limit,
            windows: Windows::default(),
            touched: Mutex::new(HashMap::new()),
            audit: crate::audit::Audit::default(),
        }
    }

    /// The same strategy, reporting a revoked key's use to `audit`.
    #[must_use]
    pub(crate) fn audited(mut self, audit: crate::audit::Audit) -> Self {
        self.audit = audit;
        self
    }

    /// The same strategy, on `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Writes the key's last use, off the request, at most once a minute.
    fn touch(&self, id: &str, now: i64) {
        {
            let mut touched = self
                .touched
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if touched
                .get(id)
                .is_some_and(|last| now.saturating_sub(*last) < TOUCH_EVERY)
            {
                return;
            }
            if touched.len() > 10_000 {
                touched.retain(|_, last| now.saturating_sub(*last) < TOUCH_EVERY);
            }
            touched.insert(id.to_owned(), now);
        }
        let keys = Arc::clone(&self.keys);
        let id = id.to_owned();
        tokio::spawn(async move {
            if let Err(error) = keys.touch(&id, now).await {
                tracing::debug!(%error, "could not record an API key's use");
            }
        });
    }
}

fn unavailable(error: StoreError) -> StrategyError {
    StrategyError::Unavailable(error.to_string())
}

#[async_trait]
impl Strategy for ApiKeyStrategy {
    async fn read_token(&self, token: &str) -> Result<Option<TokenInfo>, StrategyError> {
        let Some((id, secret)) = parse_key(token) else {
            return Ok(None);
        };
        let Some(stored) = self.keys.get(id).await.map_err(unavailable)? else {
            return Ok(None);
        };
        let hash = token_hash(secret);
        if !bool::from(hash.as_bytes().ct_eq(stored.secret_hash.as_bytes())) {
            return Ok(None);
        }
        let now = self.clock.now();
        if stored.revoked_at.is_some() {
            // The whole key, right, after its revocation: a leaked key in use, which
            // its owner should hear of (as of a refresh token used twice).
            tracing::warn!(key = %stored.id, user = %stored.user_id, "revoked API key used");
            self.audit
                .emit(|| crate::audit::SecurityEvent::RevokedApiKeyUsed {
                    user_id: stored.user_id.clone(),
                    key_id: stored.id.clone(),
                });
            return Ok(None);
        }
        if stored.expires_at.is_some_and(|end| end <= now) {
            return Ok(None);
        }
        if let Err(retry_after) = self.windows.take(&stored.id, now, self.limit.per_minute) {
            return Err(StrategyError::RateLimited { retry_after });
        }
        self.touch(&stored.id, now);
        Ok(Some(TokenInfo::new(stored.user_id).keyed(KeyAccess {
            id: stored.id,
            scopes: stored.scopes,
        })))
    }

    async fn write_token(&self, _grant: &Grant<'_>) -> Result<Issued, StrategyError> {
        Err(StrategyError::Issue(
            "an API key backend signs no one in: keys are created at POST /users/me/api-keys"
                .into(),
        ))
    }

    fn is_api_key(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_fixed_length_base62_and_differ() {
        let (a, b) = (generate_key().unwrap(), generate_key().unwrap());
        assert_eq!(a.key.len(), API_KEY_LEN);
        assert_eq!(API_KEY_LEN, 65);
        assert_ne!(a.key, b.key);
        assert!(a.key[4..].bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(parse_key(&a.key).map(|(id, _)| id), Some(a.id.as_str()));
        let (_, secret) = parse_key(&a.key).unwrap();
        assert_eq!(token_hash(secret), a.secret_hash);
        assert!(!a.secret_hash.contains(secret));
    }

    #[test]
    fn every_single_change_fails_the_checksum() {
        let key = generate_key().unwrap().key;
        for at in 4..key.len() {
            let mut bytes = key.clone().into_bytes();
            bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
            let changed = String::from_utf8(bytes).unwrap();
            assert!(parse_key(&changed).is_none(), "changed at {at}");
        }
        assert!(parse_key(&key[..key.len() - 1]).is_none());
        assert!(parse_key(&format!("ghp_{}", &key[4..])).is_none());
    }

    #[test]
    fn a_window_allows_its_limit_then_says_when_to_retry() {
        let windows = Windows::default();
        for _ in 0..3 {
            assert_eq!(windows.take("k", 1_000_020, 3), Ok(()));
        }
        assert_eq!(windows.take("k", 1_000_030, 3), Err(50));
        assert_eq!(windows.take("other", 1_000_030, 3), Ok(()));
        assert_eq!(windows.take("k", 1_000_080, 3), Ok(()), "a new minute");
        assert_eq!(windows.take("k", 1_000_080, 0), Ok(()), "no limit");
    }
}
