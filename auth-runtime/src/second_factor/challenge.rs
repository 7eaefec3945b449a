//! The `mfa_token`: what a correct first factor of a user with 2FA answers
//! instead of tokens (Auth0's `mfa_required` convention), and what the second step
//! presents with the code. Single use, five minutes, five tries counted in the
//! store (so across instances), bound to its backend and, on a cookie backend, to
//! the browser by a cookie whose hash the challenge keeps: a token that leaked from
//! the page is worthless elsewhere.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue};

use crate::error::ApiError;
use crate::store::{MfaChallenge, StoreError, TwoFactorStore, token_hash};

/// Seconds an `mfa_token` lives.
pub const CHALLENGE_LIFETIME: i64 = 300;
/// Codes one `mfa_token` may try.
pub const CHALLENGE_TRIES: u32 = 5;

const NAME: &str = "warden_mfa";
const HOST_NAME: &str = "__Host-warden_mfa";

/// Opens and redeems challenges.
pub(crate) struct Challenges {
    store: Arc<dyn TwoFactorStore>,
    secure: bool,
}

/// A new challenge: the token for the body, and the binding cookie when asked.
pub(crate) struct Opened {
    pub(crate) token: String,
    pub(crate) cookie: Option<HeaderValue>,
}

impl Challenges {
    pub(crate) fn new(store: Arc<dyn TwoFactorStore>, secure: bool) -> Self {
        Self { store, secure }
    }

    fn name(&self) -> &'static str {
        if self.secure { HOST_NAME } else { NAME }
    }

    fn set_cookie(&self, value: &str, max_age: i64) -> Option<HeaderValue> {
        crate::transport::private_cookie(self.name(), value.to_owned(), self.secure, max_age)
    }

    /// `Set-Cookie` that removes the binding cookie.
    pub(crate) fn clear_cookie(&self) -> Option<HeaderValue> {
        self.set_cookie("", 0)
    }

    /// Opens a challenge for `user_id`'s sign-in through `backend`, whose first
    /// factor proved `amr`, at `now`; bound to the browser when `bind`.
    pub(crate) async fn open(
        &self,
        user_id: &str,
        backend: &str,
        amr: &[String],
        bind: bool,
        now: i64,
    ) -> Result<Opened, ApiError> {
        let random = || {
            crate::random::urlsafe::<32>().map_err(|error| {
                tracing::error!(%error, "no randomness for an mfa_token");
                ApiError::internal()
            })
        };
        let token = random()?;
        let (binding, cookie) = if bind {
            let value = random()?;
            (
                Some(token_hash(&value)),
                self.set_cookie(&value, CHALLENGE_LIFETIME),
            )
        } else {
            (None, None)
        };
        self.store
            .open_challenge(&MfaChallenge {
                token_hash: token_hash(&token),
                user_id: user_id.to_owned(),
                backend: backend.to_owned(),
                amr: amr.to_vec(),
                binding,
                expires_at: now.saturating_add(CHALLENGE_LIFETIME),
                tries: 0,
            })
            .await?;
        Ok(Opened { token, cookie })
    }

    /// Counts one try of `token` at `now` and answers its challenge when it is
    /// live, has tries left, belongs to `backend` and (when bound) to the cookie
    /// `headers` carry. `None` otherwise: every refusal looks the same.
    pub(crate) async fn attempt(
        &self,
        token: &str,
        backend: &str,
        headers: &HeaderMap,
        now: i64,
    ) -> Result<Option<MfaChallenge>, StoreError> {
        let Some(challenge) = self
            .store
            .try_challenge(&token_hash(token), now, CHALLENGE_TRIES)
            .await?
        else {
            return Ok(None);
        };
        let bound = match &challenge.binding {
            None => true,
            Some(binding) => crate::transport::cookie_values(headers, self.name())
                .any(|value| super::same(&token_hash(value), binding)),
        };
        Ok((bound && challenge.backend == backend).then_some(challenge))
    }

    /// Uses `token` up: whether this call took it (of two concurrent second steps,
    /// one does).
    pub(crate) async fn take(&self, token: &str) -> Result<bool, StoreError> {
        self.store.take_challenge(&token_hash(token)).await
    }
}
