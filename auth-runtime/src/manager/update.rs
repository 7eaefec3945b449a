//! Updating and deleting users (FastAPI Users' `update`, `_update` and `delete`).

use serde::Deserialize;

use super::{ManagerError, UserManager};
use crate::user::{User, normalize_email};

/// The body of `PATCH /users/me` and `PATCH /users/{id}`, FastAPI Users'
/// `UserUpdate`: every field optional, only the present ones change.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
pub struct UserUpdate {
    /// A new e-mail: must be free; the user becomes unverified.
    pub email: Option<String>,
    /// A new password: checked by the password hook, then hashed.
    pub password: Option<String>,
    /// Ignored on a user's own update (`safe`).
    pub is_active: Option<bool>,
    /// Ignored on a user's own update (`safe`).
    pub is_superuser: Option<bool>,
    /// Ignored on a user's own update (`safe`).
    pub is_verified: Option<bool>,
}

impl std::fmt::Debug for UserUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserUpdate")
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .field("is_active", &self.is_active)
            .field("is_superuser", &self.is_superuser)
            .field("is_verified", &self.is_verified)
            .finish()
    }
}

impl UserUpdate {
    /// The update without the privileged flags (FastAPI Users' `create_update_dict`).
    pub fn safe(self) -> Self {
        Self {
            email: self.email,
            password: self.password,
            ..Self::default()
        }
    }
}

impl UserManager {
    /// Applies an update. Everything is checked before anything is written, so a
    /// refused update leaves the stored user exactly as it was. With `safe`, the
    /// privileged flags are ignored (a user updating themself).
    pub async fn update(
        &self,
        user: User,
        update: UserUpdate,
        safe: bool,
    ) -> Result<User, ManagerError> {
        let update = if safe { update.safe() } else { update };
        let updated = self.apply(&user, &update).await?;
        let updated = self.store.update(updated).await?;
        self.events.on_after_update(&updated, &update).await;
        Ok(updated)
    }

    /// The updated record, checked field by field in FastAPI Users' order (password,
    /// then e-mail), hashing only once every check passed. Writes nothing.
    async fn apply(&self, user: &User, update: &UserUpdate) -> Result<User, ManagerError> {
        let mut updated = user.clone();
        if let Some(password) = &update.password {
            self.events.validate_password(password, &user.email).await?;
        }
        if let Some(email) = &update.email {
            let email = normalize_email(email).map_err(ManagerError::InvalidEmail)?;
            if email != user.email {
                if let Some(other) = self.store.get_by_email(&email).await?
                    && other.id != user.id
                {
                    return Err(ManagerError::UserAlreadyExists);
                }
                // A new address is not verified; a change of case is the same mailbox.
                if email.to_lowercase() != user.email.to_lowercase() {
                    updated.is_verified = false;
                }
                updated.email = email;
            }
        }
        if let Some(password) = &update.password {
            updated.hashed_password = self.hasher.hash(password.clone()).await?;
        }
        if let Some(active) = update.is_active {
            updated.is_active = active;
        }
        if let Some(superuser) = update.is_superuser {
            updated.is_superuser = superuser;
        }
        if let Some(verified) = update.is_verified {
            updated.is_verified = verified;
        }
        Ok(updated)
    }

    /// Sets a new password without the update hook (FastAPI Users' `_update`, used by
    /// the reset flow).
    pub(super) async fn set_password(
        &self,
        user: &User,
        password: String,
    ) -> Result<User, ManagerError> {
        self.events
            .validate_password(&password, &user.email)
            .await?;
        let mut updated = user.clone();
        updated.hashed_password = self.hasher.hash(password).await?;
        Ok(self.store.update(updated).await?)
    }

    /// Deletes a user, with the before and after hooks.
    pub async fn delete(&self, user: &User) -> Result<(), ManagerError> {
        self.events.on_before_delete(user).await;
        self.store.delete(user.id).await?;
        self.events.on_after_delete(user).await;
        Ok(())
    }
}
