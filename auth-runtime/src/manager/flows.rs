//! Password reset and e-mail verification: FastAPI Users' `forgot_password`,
//! `reset_password`, `request_verify` and `verify`, with their token layouts.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{ManagerError, UserManager, WRITE_ATTEMPTS};
use crate::ConfigError;
use crate::clock::Clock;
use crate::keyring::{KeyPurpose, Keyring};
use crate::model::{UserId, UserModel};
use crate::store::StoreError;
use crate::token::{JwtStrategy, Lifetime, Secret, VerifiedClaims};

/// FastAPI Users' reset-token audience.
pub const RESET_AUDIENCE: &str = "fastapi-users:reset";
/// FastAPI Users' verification-token audience.
pub const VERIFY_AUDIENCE: &str = "fastapi-users:verify";

/// The secret and lifetime of one kind of action token. Use a secret of its own,
/// apart from the access-token secret.
///
/// The tokens are FastAPI Users' (HS256 JWTs signed with `secret` itself, so that
/// they interoperate); what only warden reads, the reset token's password
/// fingerprint, is keyed with a key derived from it (HKDF-SHA256, RFC 5869).
///
/// ```
/// use warden_runtime::TokenSettings;
/// let reset = TokenSettings::new("the-new-reset-secret-of-32-bytes!!")
///     .lifetime(900)
///     // Tokens mailed before the rotation still work until they expire.
///     .previous_secret("the-old-reset-secret-of-32-bytes!!");
/// assert_eq!(reset.lifetime, 900);
/// ```
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// HS256 secret, at least 32 bytes.
    pub secret: Secret,
    /// Seconds a token stays valid (FastAPI Users: 3600).
    pub lifetime: u64,
    /// Secrets rotated out, newest first: tokens they signed are still accepted.
    pub previous_secrets: Vec<Secret>,
}

impl TokenSettings {
    /// Settings with FastAPI Users' one-hour lifetime.
    pub fn new(secret: impl Into<Secret>) -> Self {
        Self {
            secret: secret.into(),
            lifetime: 3600,
            previous_secrets: Vec::new(),
        }
    }

    /// Another lifetime, in seconds.
    pub fn lifetime(mut self, seconds: u64) -> Self {
        self.lifetime = seconds;
        self
    }

    /// Rotates the secret: tokens signed with `secret` (the one [`new`](Self::new)
    /// was given before) are still accepted, while new ones are signed with the new
    /// secret. Remove it once the lifetime has passed. Call again for each older
    /// secret still accepted, newest first.
    pub fn previous_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.previous_secrets.push(secret.into());
        self
    }
}

/// One secret of a kind of action token: its strategy, and for reset tokens the
/// key of the password fingerprint derived from it.
#[derive(Debug)]
struct Signer {
    strategy: JwtStrategy,
    fingerprint: Option<Secret>,
}

/// The strategies for reset and verify tokens, each with its own audience, so
/// neither is ever accepted where the other, or an access token, is expected.
///
/// ```
/// use warden_runtime::{ActionTokens, Clock, TokenSettings};
/// let tokens = ActionTokens::new(
///     Some(TokenSettings::new("a-reset-secret-of-at-least-32-bytes")),
///     None,
/// )?
/// .with_clock(Clock::system());
/// assert!(tokens.has_reset() && !tokens.has_verify());
/// # Ok::<(), warden_runtime::ConfigError>(())
/// ```
#[derive(Debug, Default)]
pub struct ActionTokens {
    /// The current secret's signer first, then the previous secrets'.
    reset: Vec<Signer>,
    verify: Vec<Signer>,
}

impl ActionTokens {
    /// Builds the strategies; an unset kind disables its routes.
    pub fn new(
        reset: Option<TokenSettings>,
        verify: Option<TokenSettings>,
    ) -> Result<Self, ConfigError> {
        let build = |name: &str, audience: &str, settings: Option<TokenSettings>| {
            let Some(settings) = settings else {
                return Ok(Vec::new());
            };
            std::iter::once(&settings.secret)
                .chain(&settings.previous_secrets)
                .map(|secret| {
                    let strategy =
                        JwtStrategy::builder(secret.clone(), Lifetime::Seconds(settings.lifetime))
                            .backend_name(name)
                            .audience([audience])
                            .build()?;
                    let fingerprint = if audience == RESET_AUDIENCE {
                        let key = Keyring::new(secret)
                            .and_then(|ring| ring.current(KeyPurpose::ResetFingerprint))
                            .ok_or_else(|| ConfigError::BadKey {
                                backend: name.to_owned(),
                                option: "secret",
                                problem: "needs at least 32 bytes".into(),
                            })?;
                        Some(key.key)
                    } else {
                        None
                    };
                    Ok(Signer {
                        strategy,
                        fingerprint,
                    })
                })
                .collect::<Result<Vec<_>, ConfigError>>()
        };
        Ok(Self {
            reset: build("reset_password", RESET_AUDIENCE, reset)?,
            verify: build("verify", VERIFY_AUDIENCE, verify)?,
        })
    }

    /// The same tokens, issued and checked on `clock` (the warden's, so that tests
    /// move one clock for every expiry).
    pub fn with_clock(self, clock: Clock) -> Self {
        let clocked = |signers: Vec<Signer>| {
            signers
                .into_iter()
                .map(|signer| Signer {
                    strategy: signer.strategy.with_clock(clock.clone()),
                    fingerprint: signer.fingerprint,
                })
                .collect()
        };
        Self {
            reset: clocked(self.reset),
            verify: clocked(self.verify),
        }
    }

    /// Whether reset tokens are configured.
    pub fn has_reset(&self) -> bool {
        !self.reset.is_empty()
    }

    /// Whether verify tokens are configured.
    pub fn has_verify(&self) -> bool {
        !self.verify.is_empty()
    }
}

/// The signer of `token`: the first whose secret signed it and under which it
/// holds (audience, expiry on its clock), with its claims.
fn check<'a>(signers: &'a [Signer], token: &str) -> Option<(&'a Signer, VerifiedClaims)> {
    signers.iter().find_map(|signer| {
        signer
            .strategy
            .verify(token)
            .ok()
            .map(|claims| (signer, claims))
    })
}

/// A keyed fingerprint of the stored password hash: it changes when the password
/// does, which makes a reset token single-use, and it reveals nothing about the hash
/// (FastAPI Users puts an argon2 hash of the hash in the token; an HMAC is as opaque
/// and costs microseconds). Keyed with [`KeyPurpose::ResetFingerprint`]'s key
/// derived from the secret that signs the token, never the secret itself.
fn fingerprint_mac(signer: &Signer, hashed_password: &str) -> Result<Hmac<Sha256>, ManagerError> {
    let key = signer.fingerprint.as_ref().ok_or(ManagerError::BadToken)?;
    // HMAC accepts keys of any length; the error arm is unreachable in practice.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key.expose()).map_err(|_| ManagerError::BadToken)?;
    mac.update(hashed_password.as_bytes());
    Ok(mac)
}

/// The fingerprint a new reset token carries.
fn fingerprint(signer: &Signer, hashed_password: &str) -> Result<String, ManagerError> {
    Ok(URL_SAFE_NO_PAD.encode(
        fingerprint_mac(signer, hashed_password)?
            .finalize()
            .into_bytes(),
    ))
}

/// Whether `presented` is the fingerprint of `hashed_password`, compared in constant
/// time (`Mac::verify_slice`).
fn fingerprint_matches(signer: &Signer, hashed_password: &str, presented: &str) -> bool {
    let Ok(presented) = URL_SAFE_NO_PAD.decode(presented) else {
        return false;
    };
    fingerprint_mac(signer, hashed_password).is_ok_and(|mac| mac.verify_slice(&presented).is_ok())
}

/// Which token a hook delivers.
#[derive(Clone, Copy)]
enum Delivery {
    Reset,
    Verify,
}

impl<U: UserModel> UserManager<U> {
    /// Hands `token` to its hook off the request: awaited inline, sending the mail
    /// would make the answer for an existing account as slow as the mail server and
    /// the answer for an unknown one immediate, telling accounts apart by time
    /// (user enumeration, OWASP ASVS 2.5.x / WSTG-IDNT-04). The request answers 202
    /// either way; a hook that panics is logged, never answered.
    fn deliver(&self, user: U, token: String, delivery: Delivery) {
        let events = Arc::clone(&self.events);
        let user_id = user.id().to_string();
        let hook = tokio::spawn(async move {
            match delivery {
                Delivery::Reset => events.on_after_forgot_password(&user, &token).await,
                Delivery::Verify => events.on_after_request_verify(&user, &token).await,
            }
        });
        tokio::spawn(async move {
            if let Err(error) = hook.await
                && error.is_panic()
            {
                let hook = match delivery {
                    Delivery::Reset => "on_after_forgot_password",
                    Delivery::Verify => "on_after_request_verify",
                };
                tracing::error!(user = %user_id, hook, "the hook panicked: its token was not delivered");
            }
        });
    }

    /// `POST /auth/forgot-password`: for an existing, active user, issues a reset
    /// token and hands it to [`UserEvents::on_after_forgot_password`](super::UserEvents::on_after_forgot_password).
    /// Says nothing about whether the user exists.
    pub async fn forgot_password(&self, email: &str) -> Result<(), ManagerError> {
        let signer = self
            .tokens
            .reset
            .first()
            .ok_or(ManagerError::NotConfigured("reset_password"))?;
        let Some(user) = self.store.get_by_email(email).await? else {
            return Ok(());
        };
        if !user.is_active() {
            return Ok(());
        }
        let token = signer
            .strategy
            .issue_with(
                &user.id().to_string(),
                &json!({ "password_fgpt": fingerprint(signer, user.hashed_password())? }),
            )
            .map_err(|_| ManagerError::BadToken)?;
        self.deliver(user, token, Delivery::Reset);
        Ok(())
    }

    /// `POST /auth/reset-password`: a valid, unused reset token of an active user sets
    /// a new password (checked by the password hook).
    pub async fn reset_password(&self, token: &str, password: String) -> Result<U, ManagerError> {
        if !self.tokens.has_reset() {
            return Err(ManagerError::NotConfigured("reset_password"));
        }
        let (signer, claims) = check(&self.tokens.reset, token).ok_or(ManagerError::BadToken)?;
        let Some(Value::String(presented)) = claims.extra.get("password_fgpt") else {
            return Err(ManagerError::BadToken);
        };
        let id = U::Id::parse(&claims.sub).ok_or(ManagerError::BadToken)?;
        // The token holds for the user as stored now: active, and with the password
        // whose fingerprint it carries (so it is single-use).
        let current = async || -> Result<U, ManagerError> {
            let user = self.store.get(&id).await?.ok_or(ManagerError::BadToken)?;
            if !fingerprint_matches(signer, user.hashed_password(), presented) || !user.is_active()
            {
                return Err(ManagerError::BadToken);
            }
            Ok(user)
        };
        let mut user = current().await?;
        // FastAPI Users' `_update`: the password rule, no update hook.
        self.events
            .validate_password(&password, user.login())
            .await?;
        let hashed_password = self.hasher.hash(password).await?;
        for _ in 0..WRITE_ATTEMPTS {
            let mut new = user.clone();
            *new.account_mut().hashed_password = hashed_password.clone();
            match self.store.replace(&user, new).await {
                Ok(updated) => {
                    // Whoever held the account's tokens is out (ASVS 7.4.1).
                    self.end_sessions(&updated).await?;
                    let user_id = updated.id().to_string();
                    self.audit
                        .emit(|| crate::audit::SecurityEvent::PasswordReset {
                            user_id: user_id.clone(),
                            email: updated.email().map(str::to_owned),
                        });
                    self.audit
                        .emit(|| crate::audit::SecurityEvent::SessionsEnded {
                            user_id,
                            reason: "password_reset",
                        });
                    self.events.on_after_reset_password(&updated).await;
                    return Ok(updated);
                }
                // Changed while hashing: still valid only if the token still holds.
                Err(StoreError::Conflict) => user = current().await?,
                Err(error) => return Err(error.into()),
            }
        }
        Err(ManagerError::Store(StoreError::Conflict))
    }

    /// `POST /auth/request-verify-token`: for an existing, active, unverified user,
    /// issues a verify token and hands it to
    /// [`UserEvents::on_after_request_verify`](super::UserEvents::on_after_request_verify).
    pub async fn request_verify(&self, email: &str) -> Result<(), ManagerError> {
        let signer = self
            .tokens
            .verify
            .first()
            .ok_or(ManagerError::NotConfigured("verify"))?;
        let Some(user) = self.store.get_by_email(email).await? else {
            return Ok(());
        };
        if !user.is_active() || user.is_verified() {
            return Ok(());
        }
        let token = signer
            .strategy
            .issue_with(&user.id().to_string(), &json!({ "email": user.email() }))
            .map_err(|_| ManagerError::BadToken)?;
        self.deliver(user, token, Delivery::Verify);
        Ok(())
    }

    /// `POST /auth/verify`: a valid verify token, bound to the user's id and current
    /// e-mail, marks the user verified.
    pub async fn verify(&self, token: &str) -> Result<U, ManagerError> {
        if !self.tokens.has_verify() {
            return Err(ManagerError::NotConfigured("verify"));
        }
        let (_, claims) = check(&self.tokens.verify, token).ok_or(ManagerError::BadToken)?;
        let Some(Value::String(email)) = claims.extra.get("email") else {
            return Err(ManagerError::BadToken);
        };
        for _ in 0..WRITE_ATTEMPTS {
            let user = self
                .store
                .get_by_email(email)
                .await?
                .ok_or(ManagerError::BadToken)?;
            // An e-mail change since the token was issued voids it.
            if U::Id::parse(&claims.sub).as_ref() != Some(user.id()) || user.email() != Some(email)
            {
                return Err(ManagerError::BadToken);
            }
            if user.is_verified() {
                return Err(ManagerError::AlreadyVerified);
            }
            let mut verified = user.clone();
            *verified.account_mut().is_verified = true;
            match self.store.replace(&user, verified).await {
                Ok(verified) => {
                    self.events.on_after_verify(&verified).await;
                    return Ok(verified);
                }
                Err(StoreError::Conflict) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(ManagerError::Store(StoreError::Conflict))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::manager::UserEvents;
    use crate::password::PasswordHasher;
    use crate::store::{MemoryStore, UserStore};
    use crate::user::{User, UserCreate};

    const OLD: &str = "the-old-action-secret-of-32-bytes!!";
    const NEW: &str = "the-new-action-secret-of-32-bytes!!";
    const PASSWORD: &str = "correct horse battery";

    /// The last token each flow handed to the application.
    #[derive(Default)]
    struct Outbox(Mutex<Vec<String>>);

    #[async_trait::async_trait]
    impl UserEvents<User> for Outbox {
        async fn on_after_forgot_password(&self, _user: &User, token: &str) {
            self.0.lock().unwrap().push(token.to_owned());
        }
        async fn on_after_request_verify(&self, _user: &User, token: &str) {
            self.0.lock().unwrap().push(token.to_owned());
        }
    }

    /// A manager of `store` whose reset and verify tokens are `settings`.
    fn manager(
        store: &Arc<dyn UserStore<User>>,
        outbox: &Arc<Outbox>,
        settings: TokenSettings,
    ) -> UserManager<User> {
        let events: Arc<dyn UserEvents<User>> = outbox.clone();
        UserManager::with_tokens(
            Arc::clone(store),
            PasswordHasher::new().unwrap(),
            events,
            ActionTokens::new(Some(settings.clone()), Some(settings)).unwrap(),
        )
    }

    #[track_caller]
    fn assert_bad_token(result: Result<User, ManagerError>) {
        assert!(matches!(result, Err(ManagerError::BadToken)), "{result:?}");
    }

    /// The `count`th token handed to the application, once its hook (run off the
    /// request) has run.
    async fn delivered(outbox: &Outbox, count: usize) -> String {
        loop {
            if let Some(token) = outbox.0.lock().unwrap().get(count - 1).cloned() {
                return token;
            }
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn tokens_from_before_a_rotation_work_until_the_old_secret_goes() {
        let store: Arc<dyn UserStore<User>> = Arc::new(MemoryStore::new());
        let outbox = Arc::new(Outbox::default());
        let before = manager(&store, &outbox, TokenSettings::new(OLD));
        let rotated = manager(
            &store,
            &outbox,
            TokenSettings::new(NEW).previous_secret(OLD),
        );
        let after = manager(&store, &outbox, TokenSettings::new(NEW));
        let email = "ann@example.com";
        before
            .register(UserCreate {
                email: Some(email.into()),
                password: PASSWORD.into(),
                is_active: None,
                is_superuser: None,
                is_verified: None,
                extra: (),
            })
            .await
            .unwrap();

        before.forgot_password(email).await.unwrap();
        let old_reset = delivered(&outbox, 1).await;
        before.request_verify(email).await.unwrap();
        let old_verify = delivered(&outbox, 2).await;
        // Removed: the old secret's tokens are refused.
        assert_bad_token(
            after
                .reset_password(&old_reset, "a new password".into())
                .await,
        );
        assert_bad_token(after.verify(&old_verify).await);
        // Rotated: they are still accepted, fingerprint included.
        rotated
            .reset_password(&old_reset, "a new password".into())
            .await
            .unwrap();
        assert!(rotated.verify(&old_verify).await.unwrap().is_verified);
        // New tokens are signed with the new secret only.
        rotated.forgot_password(email).await.unwrap();
        let new_reset = delivered(&outbox, 3).await;
        assert_bad_token(
            before
                .reset_password(&new_reset, "a third password".into())
                .await,
        );
        after
            .reset_password(&new_reset, "a third password".into())
            .await
            .unwrap();
    }
}
