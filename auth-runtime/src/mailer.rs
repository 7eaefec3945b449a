//! A development mailer: reset and verify messages appended to a file, one JSON
//! line each, so both flows work locally with no mail server.

use std::path::PathBuf;

use async_trait::async_trait;
use serde_json::json;
use tokio::io::AsyncWriteExt;

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
    /// Appends to `path` (created if missing).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: tokio::sync::Mutex::new(()),
        }
    }

    async fn append<U: UserModel>(&self, event: &str, user: &U, token: &str) {
        let mut line = json!({
            "event": event,
            "user_id": user.id(),
            "email": user.email(),
            "token": token,
        })
        .to_string();
        line.push('\n');
        let _guard = self.lock.lock().await;
        let written = async {
            let mut file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .await?;
            file.write_all(line.as_bytes()).await?;
            file.flush().await
        }
        .await;
        match written {
            Ok(()) => {
                tracing::info!(event, user_id = %user.id(), path = %self.path.display(), "development mailer wrote a message")
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
