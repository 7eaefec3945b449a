//! Updating and deleting users (FastAPI Users' `update`, `_update` and `delete`).

use super::{ManagerError, UserManager, WRITE_ATTEMPTS};
use crate::audit::SecurityEvent;
use crate::model::UserModel;
use crate::store::StoreError;
use crate::user::{check_username, normalize_email};

/// The body of `PATCH /users/me` and `PATCH /users/{id}`, FastAPI Users'
/// `UserUpdate`: every field optional, only the present ones change. `extra`
/// carries the model's own updatable fields (`()` for [`User`](crate::User)).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UserUpdate<X = ()> {
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
    /// The user's roles, all of them, by name (a model with a `#[user(roles)]`
    /// field). Ignored on a user's own update (`safe`): roles are a superuser's to
    /// give.
    pub roles: Option<Vec<String>>,
    /// The model's own fields.
    pub extra: X,
}

impl<X: std::fmt::Debug> std::fmt::Debug for UserUpdate<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserUpdate")
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .field("is_active", &self.is_active)
            .field("is_superuser", &self.is_superuser)
            .field("is_verified", &self.is_verified)
            .field("roles", &self.roles)
            .field("extra", &self.extra)
            .finish()
    }
}

impl<X> UserUpdate<X> {
    /// The update without the privileged flags (FastAPI Users' `create_update_dict`).
    pub fn safe(self) -> Self {
        Self {
            email: self.email,
            password: self.password,
            is_active: None,
            is_superuser: None,
            is_verified: None,
            roles: None,
            extra: self.extra,
        }
    }
}

impl<U: UserModel> UserManager<U> {
    /// Applies an update. Everything is checked before anything is written, so a
    /// refused update leaves the stored user exactly as it was. With `safe`, the
    /// privileged flags are ignored (a user updating themself).
    pub async fn update(
        &self,
        user: U,
        update: UserUpdate<U::Update>,
        safe: bool,
    ) -> Result<U, ManagerError> {
        let update = if safe { update.safe() } else { update };
        // FastAPI Users' order: the password rule, then the e-mail.
        if let Some(password) = &update.password {
            self.events
                .validate_password(password, user.login())
                .await?;
        }
        // A model without an e-mail ignores one, as pydantic ignores unknown fields.
        let email = match &update.email {
            Some(email) if U::HAS_EMAIL => {
                Some(normalize_email(email).map_err(ManagerError::InvalidEmail)?)
            }
            _ => None,
        };
        if U::LOGIN != "email" {
            let mut renamed = user.clone();
            renamed.apply(update.extra.clone());
            if renamed.login() != user.login() {
                check_username(renamed.login()).map_err(ManagerError::InvalidLogin)?;
            }
        }
        let hashed_password = match &update.password {
            Some(password) => Some(self.hasher.hash(password.clone()).await?),
            None => None,
        };
        // The hash took a while: write only over the row as it was read, re-reading
        // and re-applying if another request changed it meanwhile.
        let mut current = user;
        for _ in 0..WRITE_ATTEMPTS {
            let mut updated = current.clone();
            if let Some(email) = &email
                && let Some(current_email) = current.email()
                && email != current_email
            {
                if let Some(other) = self.store.get_by_email(email).await?
                    && other.id() != current.id()
                {
                    return Err(ManagerError::UserAlreadyExists);
                }
                // A new address is not verified; a change of case is the same mailbox.
                if !email.eq_ignore_ascii_case(current_email) {
                    *updated.account_mut().is_verified = false;
                }
                if let Some(stored) = updated.account_mut().email {
                    *stored = email.clone();
                }
            }
            let account = updated.account_mut();
            if let Some(hash) = &hashed_password {
                *account.hashed_password = hash.clone();
            }
            if let Some(active) = update.is_active {
                *account.is_active = active;
            }
            if let Some(superuser) = update.is_superuser {
                *account.is_superuser = superuser;
            }
            if let Some(verified) = update.is_verified {
                *account.is_verified = verified;
            }
            if let Some(roles) = &update.roles {
                let names: Vec<&str> = roles.iter().map(String::as_str).collect();
                updated.set_roles(&names);
            }
            updated.apply(update.extra.clone());
            let deactivated = current.is_active() && !updated.is_active();
            match self.store.replace(&current, updated).await {
                Ok(updated) => {
                    // A new password or a deactivation ends every token of the user
                    // (ASVS 7.4.1); FastAPI Users' JWTs would live on.
                    if hashed_password.is_some() || deactivated {
                        self.end_sessions(&updated).await?;
                    }
                    let user_id = updated.id().to_string();
                    if hashed_password.is_some() {
                        self.audit.emit(|| SecurityEvent::PasswordChanged {
                            user_id: user_id.clone(),
                            email: updated.email().map(str::to_owned),
                        });
                    }
                    if let (Some(from), Some(to)) = (current.email(), updated.email())
                        && from != to
                    {
                        self.audit.emit(|| SecurityEvent::EmailChanged {
                            user_id: user_id.clone(),
                            from: from.to_owned(),
                            to: to.to_owned(),
                        });
                    }
                    let (from, to) = (current.role_names(), updated.role_names());
                    if from != to {
                        self.audit.emit(|| SecurityEvent::RolesChanged {
                            user_id: user_id.clone(),
                            from: from.iter().map(|name| (*name).to_owned()).collect(),
                            to: to.iter().map(|name| (*name).to_owned()).collect(),
                        });
                    }
                    if hashed_password.is_some() || deactivated {
                        self.audit.emit(|| SecurityEvent::SessionsEnded {
                            user_id,
                            reason: if deactivated {
                                "deactivated"
                            } else {
                                "password_changed"
                            },
                        });
                    }
                    self.events.on_after_update(&updated, &update).await;
                    return Ok(updated);
                }
                Err(StoreError::Conflict) => {
                    current = self
                        .store
                        .get(current.id())
                        .await?
                        .ok_or(ManagerError::Store(StoreError::NotFound))?;
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(ManagerError::Store(StoreError::Conflict))
    }

    /// Deletes a user, with the before and after hooks. Its sessions end and its
    /// two-factor state goes with it: an integer id may be given to a new user,
    /// who must not inherit a second factor.
    pub async fn delete(&self, user: &U) -> Result<(), ManagerError> {
        self.events.on_before_delete(user).await;
        self.store.delete(user.id()).await?;
        self.end_sessions(user).await?;
        if let Some(two_factor) = self.store.two_factor() {
            two_factor.forget_user(&user.id().to_string()).await?;
        }
        // An integer id may be given to a new user, who must not inherit a ban.
        if let Some(bans) = self.store.bans() {
            bans.remove(&user.id().to_string()).await?;
        }
        self.audit.emit(|| SecurityEvent::SessionsEnded {
            user_id: user.id().to_string(),
            reason: "deleted",
        });
        self.events.on_after_delete(user).await;
        Ok(())
    }
}
