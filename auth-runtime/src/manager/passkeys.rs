//! Accounts created from a passkey alone: FastAPI Users' registration without a
//! password.

use super::{Flags, ManagerError, UserManager};
use crate::model::UserModel;
use crate::user::UserCreate;

/// The hash of an account created from a passkey: no password matches it (a hash
/// starting with `!` is no usable password, the convention of `/etc/shadow`); a
/// password reset sets one.
pub(crate) const NO_PASSWORD: &str = "!passkey";

impl<U: UserModel> UserManager<U> {
    /// Checks a passkey sign-up before its ceremony starts, as
    /// [`register`](Self::register) does (the e-mail and login valid and free).
    pub(crate) async fn check_signup(
        &self,
        create: UserCreate<U::Create>,
    ) -> Result<U, ManagerError> {
        let (user, _) = Self::build(create, Flags::Public)?;
        if self.taken(&user).await? {
            return Err(ManagerError::UserAlreadyExists);
        }
        Ok(user)
    }

    /// Stores the user of a passkey sign-up, with the locked password marker; the
    /// database's unique indexes settle races ([`ManagerError::UserAlreadyExists`]).
    /// The caller fires `on_after_register` once the passkey is stored too.
    pub(crate) async fn create_passwordless(
        &self,
        create: UserCreate<U::Create>,
    ) -> Result<U, ManagerError> {
        let (mut user, _) = Self::build(create, Flags::Public)?;
        NO_PASSWORD.clone_into(user.account_mut().hashed_password);
        Ok(self.store.create(user).await?)
    }
}
