//! Bans: a superuser (or the CLI, or code) keeps a user out until a date or until
//! lifted. The ban is a row of warden's own `warden_ban` table, read by the sign-in
//! step of every instance; banning ends every session and session-less token of
//! the user on every instance (the cut-off `end_user` records).

use super::{ManagerError, UserManager};
use crate::audit::SecurityEvent;
use crate::model::UserModel;
use crate::store::{Ban, MAX_BAN_REASON, StoreError};

impl<U: UserModel> UserManager<U> {
    /// Bans `user` until `until` (Unix seconds; `None`: until [`unban`](Self::unban)),
    /// for `reason` (kept for operators, at most [`MAX_BAN_REASON`] bytes, cut at a
    /// character boundary), by the superuser `by` (their id; `None` for the CLI or
    /// code). A ban replaces the user's earlier one. Every session and token of the
    /// user ends, on every instance. A superuser is refused
    /// ([`ManagerError::BanSuperuser`]); a store without bans answers
    /// [`StoreError::Unsupported`].
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use warden_runtime::{MemoryStore, User, UserCreate, Warden, JwtStrategy, Lifetime};
    /// let jwt = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(60)).build()?;
    /// let warden = Warden::<User>::builder().store(MemoryStore::new()).strategy("jwt", jwt).build()?;
    /// let manager = warden.manager();
    /// let ada = manager.register(UserCreate::new("correct horse battery", ()).with_email("ada@example.com")).await?;
    /// manager.ban(&ada, Some("spam"), None, None).await?;
    /// assert!(manager.banned(&ada).await?.is_some());
    /// assert!(manager.unban(&ada).await?);
    /// assert!(manager.banned(&ada).await?.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub async fn ban(
        &self,
        user: &U,
        reason: Option<&str>,
        until: Option<i64>,
        by: Option<&str>,
    ) -> Result<Ban, ManagerError> {
        if user.is_superuser() {
            return Err(ManagerError::BanSuperuser);
        }
        let bans = self
            .store
            .bans()
            .ok_or(ManagerError::Store(StoreError::Unsupported("bans")))?;
        let user_id = user.id().to_string();
        let reason = reason.map(|reason| {
            let mut end = reason.len().min(MAX_BAN_REASON);
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            &reason[..end]
        });
        let now = self.sessions.clock().now();
        let ban = Ban::new(user_id.as_str(), now)
            .until(until)
            .reason(reason)
            .by(by);
        // The row first, then the sessions: a sign-in that passed the ban check
        // before the row was written re-reads it once its session is recorded (see
        // the sign-in step), so no session outlives the ban.
        bans.put(&ban).await?;
        self.sessions.end_user(&user_id).await?;
        // API keys are not sessions: the request pipeline refuses a banned user's
        // keys for as long as the ban lasts (`authn::Authenticator::authenticate`).
        self.audit.emit(|| SecurityEvent::UserBanned {
            user_id: user_id.clone(),
            until,
            by: by.map(str::to_owned),
        });
        self.audit.emit(|| SecurityEvent::SessionsEnded {
            user_id,
            reason: "banned",
        });
        Ok(ban)
    }

    /// Lifts `user`'s ban; whether there was one (an expired one counts).
    pub async fn unban(&self, user: &U) -> Result<bool, ManagerError> {
        let bans = self
            .store
            .bans()
            .ok_or(ManagerError::Store(StoreError::Unsupported("bans")))?;
        let user_id = user.id().to_string();
        let lifted = bans.remove(&user_id).await?;
        if lifted {
            self.audit.emit(|| SecurityEvent::UserUnbanned { user_id });
        }
        Ok(lifted)
    }

    /// `user`'s ban if it holds now (by the warden's clock); `None` for no ban, an
    /// expired one, or a store without bans.
    pub async fn banned(&self, user: &U) -> Result<Option<Ban>, StoreError> {
        self.banned_id(&user.id().to_string()).await
    }

    /// [`banned`](Self::banned), by the user's id as text.
    pub(crate) async fn banned_id(&self, user_id: &str) -> Result<Option<Ban>, StoreError> {
        let Some(bans) = self.store.bans() else {
            return Ok(None);
        };
        let now = self.sessions.clock().now();
        Ok(bans.get(user_id).await?.filter(|ban| ban.is_active(now)))
    }
}
