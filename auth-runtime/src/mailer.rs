//! A development mailer: reset and verify messages appended to a file, one JSON
//! line each, so both flows work locally with no mail server.

use std::path::PathBuf;

use async_trait::async_trait;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::audit::{SecurityEvent, SecuritySink};
use crate::manager::UserEvents;
use crate::model::UserModel;

/// [`UserEvents`] that "sends" reset and verify tokens by appending
/// `{"event": "forgot_password" | "request_verify", "user_id", "email", "token"}` to a
/// file. For development: the file holds live tokens.
///
/// ```no_run
/// # fn build() -> Result<(), warden_runtime::ConfigError> {
/// use warden_runtime::{MemoryStore, Warden, mailer::DevMailer};
/// let warden = Warden::<warden_runtime::User>::builder()
///     .store(MemoryStore::new())
///     .events(DevMailer::new("outbox.jsonl"))
///     # ;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DevMailer {
    path: PathBuf,
    /// One writer at a time, so lines never interleave.
    lock: tokio::sync::Mutex<()>,
}

impl DevMailer {
    /// Appends to `path` (created if missing, readable by its owner only).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: tokio::sync::Mutex::new(()),
        }
    }

    async fn append<U: UserModel>(&self, event: &str, user: &U, token: &str) {
        let line = json!({
            "event": event,
            "user_id": user.id(),
            "email": user.email(),
            "token": token,
        });
        self.write(event, &user.id().to_string(), line).await;
    }

    /// Appends one JSON line.
    async fn write(&self, event: &str, user_id: &str, line: serde_json::Value) {
        let mut line = line.to_string();
        line.push('\n');
        let _guard = self.lock.lock().await;
        let written = async {
            let mut options = tokio::fs::OpenOptions::new();
            options.create(true).append(true);
            // It holds reset and verify tokens: readable by its owner only, not
            // whatever the umask allows (ASVS 14.2: sensitive data at rest).
            #[cfg(unix)]
            options.mode(0o600);
            let mut file = options.open(&self.path).await?;
            file.write_all(line.as_bytes()).await?;
            file.flush().await
        }
        .await;
        match written {
            Ok(()) => {
                tracing::info!(event, user_id, path = %self.path.display(), "development mailer wrote a message")
            }
            Err(error) => {
                tracing::error!(%error, path = %self.path.display(), "development mailer could not write")
            }
        }
    }
}

#[async_trait]
impl<U: UserModel> UserEvents<U> for DevMailer {
    async fn on_after_forgot_password(&self, user: &U, token: &str) {
        self.append("forgot_password", user, token).await;
    }

    async fn on_after_request_verify(&self, user: &U, token: &str) {
        self.append("request_verify", user, token).await;
    }
}

/// The notices a user should get about their account, as messages in the file:
/// `{"event": "password_changed" | "password_reset" | "email_changed" |
/// "refresh_token_reused" | "two_factor_enabled" | "two_factor_disabled" |
/// "recovery_code_used" | "recovery_codes_regenerated" | "passkey_added" |
/// "passkey_removed" | "revoked_api_key_used", "user_id", "email", ...}` (an e-mail change is told to the
/// old address, where its owner still reads). Pass it to
/// `WardenBuilder::security_events` beside `.events(...)`.
#[async_trait]
impl SecuritySink for DevMailer {
    async fn record(&self, _at: i64, event: &SecurityEvent) {
        let (name, user_id, line) = match event {
            SecurityEvent::PasswordChanged { user_id, email } => (
                "password_changed",
                user_id,
                json!({"event": "password_changed", "user_id": user_id, "email": email}),
            ),
            SecurityEvent::PasswordReset { user_id, email } => (
                "password_reset",
                user_id,
                json!({"event": "password_reset", "user_id": user_id, "email": email}),
            ),
            SecurityEvent::EmailChanged { user_id, from, to } => (
                "email_changed",
                user_id,
                json!({"event": "email_changed", "user_id": user_id, "email": from, "new_email": to}),
            ),
            SecurityEvent::TwoFactorEnabled { user_id, email } => (
                "two_factor_enabled",
                user_id,
                json!({"event": "two_factor_enabled", "user_id": user_id, "email": email}),
            ),
            SecurityEvent::TwoFactorDisabled { user_id, email, by } => (
                "two_factor_disabled",
                user_id,
                json!({"event": "two_factor_disabled", "user_id": user_id, "email": email, "by": by}),
            ),
            SecurityEvent::RecoveryCodeUsed {
                user_id,
                email,
                left,
            } => (
                "recovery_code_used",
                user_id,
                json!({"event": "recovery_code_used", "user_id": user_id, "email": email, "left": left}),
            ),
            SecurityEvent::RecoveryCodesRegenerated { user_id, email } => (
                "recovery_codes_regenerated",
                user_id,
                json!({"event": "recovery_codes_regenerated", "user_id": user_id, "email": email}),
            ),
            SecurityEvent::RefreshTokenReused { user_id, .. } => (
                "refresh_token_reused",
                user_id,
                json!({"event": "refresh_token_reused", "user_id": user_id}),
            ),
            SecurityEvent::RevokedApiKeyUsed { user_id, key_id } => (
                "revoked_api_key_used",
                user_id,
                json!({"event": "revoked_api_key_used", "user_id": user_id, "key_id": key_id}),
            ),
            SecurityEvent::PasskeyAdded {
                user_id,
                email,
                name,
            } => (
                "passkey_added",
                user_id,
                json!({"event": "passkey_added", "user_id": user_id, "email": email, "passkey": name}),
            ),
            SecurityEvent::PasskeyRemoved {
                user_id,
                email,
                name,
            } => (
                "passkey_removed",
                user_id,
                json!({"event": "passkey_removed", "user_id": user_id, "email": email, "passkey": name}),
            ),
            _ => return,
        };
        self.write(name, user_id, line).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The outbox holds reset and verify tokens: its owner's only, whatever the
    /// umask would have made it.
    #[cfg(unix)]
    #[tokio::test]
    async fn the_outbox_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.jsonl");
        let mailer = DevMailer::new(&path);
        mailer
            .write("forgot_password", "id", json!({"token": "t"}))
            .await;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
