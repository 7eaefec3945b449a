//! Password reset and e-mail verification: FastAPI Users' `forgot_password`,
//! `reset_password`, `request_verify` and `verify`, with their token layouts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::{ManagerError, UserManager, WRITE_ATTEMPTS};
use crate::ConfigError;
use crate::model::{UserId, UserModel};
use crate::store::StoreError;
use crate::token::{JwtStrategy, Lifetime, Secret};

/// FastAPI Users' reset-token audience.
pub const RESET_AUDIENCE: &str = "fastapi-users:reset";
/// FastAPI Users' verification-token audience.
pub const VERIFY_AUDIENCE: &str = "fastapi-users:verify";

/// The secret and lifetime of one kind of action token. Use a secret of its own,
/// apart from the access-token secret.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// HS256 secret, at least 32 bytes.
    pub secret: Secret,
    /// Seconds a token stays valid (FastAPI Users: 3600).
    pub lifetime: u64,
}

impl TokenSettings {
    /// Settings with FastAPI Users' one-hour lifetime.
    pub fn new(secret: impl Into<Secret>) -> Self {
        Self {
            secret: secret.into(),
            lifetime: 3600,
        }
    }

    /// Another lifetime, in seconds.
    pub fn lifetime(mut self, seconds: u64) -> Self {
        self.lifetime = seconds;
        self
    }
}

/// The strategies for reset and verify tokens, each with its own audience, so
/// neither is ever accepted where the other, or an access token, is expected.
#[derive(Debug, Default)]
pub struct ActionTokens {
    reset: Option<(JwtStrategy, Secret)>,
    verify: Option<JwtStrategy>,
}

impl ActionTokens {
    /// Builds the strategies; an unset kind disables its routes.
    pub fn new(
        reset: Option<TokenSettings>,
        verify: Option<TokenSettings>,
    ) -> Result<Self, ConfigError> {
        let build = |name: &str, audience: &str, settings: &TokenSettings| {
            JwtStrategy::builder(
                settings.secret.clone(),
                Lifetime::Seconds(settings.lifetime),
            )
            .backend_name(name)
            .audience([audience])
            .build()
        };
        Ok(Self {
            reset: reset
                .map(|s| {
                    build("reset_password", RESET_AUDIENCE, &s).map(|strategy| (strategy, s.secret))
                })
                .transpose()?,
            verify: verify
                .map(|s| build("verify", VERIFY_AUDIENCE, &s))
                .transpose()?,
        })
    }

    /// Whether reset tokens are configured.
    pub fn has_reset(&self) -> bool {
        self.reset.is_some()
    }

    /// Whether verify tokens are configured.
    pub fn has_verify(&self) -> bool {
        self.verify.is_some()
    }
}

/// A keyed fingerprint of the stored password hash: it changes when the password
/// does, which makes a reset token single-use, and it reveals nothing about the hash
/// (FastAPI Users puts an argon2 hash of the hash in the token; an HMAC is as opaque
/// and costs microseconds).
fn fingerprint(key: &Secret, hashed_password: &str) -> Result<String, ManagerError> {
    // HMAC accepts keys of any length; the error arm is unreachable in practice.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key.expose()).map_err(|_| ManagerError::BadToken)?;
    mac.update(hashed_password.as_bytes());
    Ok(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

impl<U: UserModel> UserManager<U> {
    /// `POST /auth/forgot-password`: for an existing, active user, issues a reset
    /// token and hands it to [`UserEvents::on_after_forgot_password`](super::UserEvents::on_after_forgot_password).
    /// Says nothing about whether the user exists.
    pub async fn forgot_password(&self, email: &str) -> Result<(), ManagerError> {
        let (strategy, key) = self
            .tokens
            .reset
            .as_ref()
            .ok_or(ManagerError::NotConfigured("reset_password"))?;
        let Some(user) = self.store.get_by_email(email).await? else {
            return Ok(());
        };
        if !user.is_active() {
            return Ok(());
        }
        let token = strategy
            .issue_with(
                &user.id().to_string(),
                &json!({ "password_fgpt": fingerprint(key, user.hashed_password())? }),
            )
            .map_err(|_| ManagerError::BadToken)?;
        self.events.on_after_forgot_password(&user, &token).await;
        Ok(())
    }

    /// `POST /auth/reset-password`: a valid, unused reset token of an active user sets
    /// a new password (checked by the password hook).
    pub async fn reset_password(&self, token: &str, password: String) -> Result<U, ManagerError> {
        let (strategy, key) = self
            .tokens
            .reset
            .as_ref()
            .ok_or(ManagerError::NotConfigured("reset_password"))?;
        let claims = strategy.verify(token).map_err(|_| ManagerError::BadToken)?;
        let Some(Value::String(presented)) = claims.extra.get("password_fgpt") else {
            return Err(ManagerError::BadToken);
        };
        let id = U::Id::parse(&claims.sub).ok_or(ManagerError::BadToken)?;
        // The token holds for the user as stored now: active, and with the password
        // whose fingerprint it carries (so it is single-use).
        let current = async || -> Result<U, ManagerError> {
            let user = self.store.get(&id).await?.ok_or(ManagerError::BadToken)?;
            let expected = fingerprint(key, user.hashed_password())?;
            if !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) || !user.is_active() {
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
        let strategy = self
            .tokens
            .verify
            .as_ref()
            .ok_or(ManagerError::NotConfigured("verify"))?;
        let Some(user) = self.store.get_by_email(email).await? else {
            return Ok(());
        };
        if !user.is_active() || user.is_verified() {
            return Ok(());
        }
        let token = strategy
            .issue_with(&user.id().to_string(), &json!({ "email": user.email() }))
            .map_err(|_| ManagerError::BadToken)?;
        self.events.on_after_request_verify(&user, &token).await;
        Ok(())
    }

    /// `POST /auth/verify`: a valid verify token, bound to the user's id and current
    /// e-mail, marks the user verified.
    pub async fn verify(&self, token: &str) -> Result<U, ManagerError> {
        let strategy = self
            .tokens
            .verify
            .as_ref()
            .ok_or(ManagerError::NotConfigured("verify"))?;
        let claims = strategy.verify(token).map_err(|_| ManagerError::BadToken)?;
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
