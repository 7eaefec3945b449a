//! FastAPI Users' `oauth_callback`: the local user of a provider account, linked,
//! found by a verified e-mail, or created; safer in three places: an e-mail the
//! provider did not verify never links to an existing account nor makes a user
//! verified (FastAPI Users' `associate_by_email` and `is_verified_by_default` trust
//! it, an account takeover), a local account that did not verify its e-mail is
//! never linked by e-mail (a pre-account takeover), and one provider account
//! belongs to one user.

use super::{ManagerError, UserManager};
use crate::model::{Account, UserId, UserModel};
use crate::oauth::Identity;
use crate::store::{OAuthAccount, OAuthAccountStore, StoreError};
use crate::user::normalize_email;

/// The hash of a user created through a provider: no password matches it (they log
/// in through the provider, or set one with a password reset). A hash starting
/// with `!` is no usable password (the convention of `/etc/shadow` and Django).
const NO_PASSWORD: &str = "!oauth";

/// What [`UserManager::oauth_unlink`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unlinked {
    /// The provider account is no longer linked to the user.
    Done,
    /// No such provider account is linked to the user.
    NotFound,
    /// Refused: it is the user's last way in (no usable password, no other
    /// linked account); they would be locked out.
    LastSignIn,
}

/// What a login through a provider may do besides finding a linked account.
#[derive(Debug, Clone, Copy, Default)]
pub struct OAuthPolicy {
    /// Link to the verified local account of the same, provider-verified e-mail.
    pub associate_by_email: bool,
    /// Make users created through the provider verified, if the provider verified
    /// their e-mail.
    pub is_verified_by_default: bool,
}

impl<U: UserModel> UserManager<U> {
    /// The local user of `identity` at the provider `oauth_name`: the linked one; or
    /// the one with its e-mail, linked now if `policy` allows, the provider
    /// verified the e-mail and the local account is verified
    /// ([`ManagerError::UserAlreadyExists`] otherwise); or a new
    /// one of `extra`'s fields, linked
    /// ([`on_after_register`](super::UserEvents::on_after_register)).
    pub async fn oauth_callback(
        &self,
        accounts: &dyn OAuthAccountStore,
        oauth_name: &str,
        identity: &Identity,
        policy: OAuthPolicy,
        extra: U::Create,
        stored_tokens: (String, Option<String>, Option<i64>),
    ) -> Result<U, ManagerError> {
        let mut extra = Some(extra);
        let email = identity
            .email
            .as_deref()
            .ok_or(ManagerError::InvalidEmail("the provider gives no e-mail"))?;
        let email = normalize_email(email).map_err(ManagerError::InvalidEmail)?;
        let link = |user: &U| {
            let (access, refresh, expires) = stored_tokens.clone();
            OAuthAccount::new(
                oauth_name,
                identity.account_id.clone(),
                email.clone(),
                user.id().to_string(),
            )
            .tokens(access, refresh, expires)
        };
        // Two rounds: a concurrent login of the same provider account may link it
        // between our look-up and our link; the second round finds that link.
        for _ in 0..2 {
            if let Some(user_id) = accounts.user_of(oauth_name, &identity.account_id).await?
                && let Some(id) = U::Id::parse(&user_id)
                && let Some(user) = self.store.get(&id).await?
            {
                accounts.update(&link(&user)).await?;
                return Ok(user);
            }
            if let Some(user) = self.store.get_by_email(&email).await? {
                // Linked only when both sides proved the mailbox: the provider
                // verified the e-mail, and so did the local account. An unverified
                // local account may be anyone's (registered first with the victim's
                // address, or changed into it, which unverifies it): linking would
                // hand the victim's provider login to an account whose password and
                // sessions the attacker holds (pre-account takeover). FastAPI Users
                // links either way.
                if !(policy.associate_by_email && identity.email_verified && user.is_verified()) {
                    return Err(ManagerError::UserAlreadyExists);
                }
                match accounts.link(&link(&user)).await {
                    Ok(()) => {
                        // A provider account now opens an account that existed
                        // before it: its owner hears of it (OWASP ASVS 2.2.3).
                        self.account_linked(&user, oauth_name);
                        return Ok(user);
                    }
                    Err(StoreError::Duplicate) => continue,
                    Err(error) => return Err(error.into()),
                }
            }
            let account = Account {
                id: U::Id::generate().unwrap_or_else(U::Id::placeholder),
                email: Some(email.clone()),
                hashed_password: NO_PASSWORD.to_owned(),
                is_active: true,
                is_superuser: false,
                is_verified: policy.is_verified_by_default && identity.email_verified,
            };
            let user = self
                .store
                .create(U::new(account, extra.take().ok_or(StoreError::Conflict)?))
                .await?;
            match accounts.link(&link(&user)).await {
                Ok(()) => {
                    self.events.on_after_register(&user).await;
                    return Ok(user);
                }
                Err(StoreError::Duplicate) => {
                    // Linked meanwhile to a user created by the concurrent login.
                    self.store.delete(user.id()).await?;
                    continue;
                }
                Err(error) => {
                    self.store.delete(user.id()).await?;
                    return Err(error.into());
                }
            }
        }
        Err(ManagerError::Store(StoreError::Conflict))
    }

    /// Links the provider account of `identity` to `user` (the associate router).
    /// [`ManagerError::UserAlreadyExists`] if it is linked to another user; linking
    /// it to the same user again only records its current e-mail.
    pub async fn oauth_associate(
        &self,
        accounts: &dyn OAuthAccountStore,
        oauth_name: &str,
        identity: &Identity,
        user: &U,
        stored_tokens: (String, Option<String>, Option<i64>),
    ) -> Result<(), ManagerError> {
        let email = identity
            .email
            .as_deref()
            .ok_or(ManagerError::InvalidEmail("the provider gives no e-mail"))?;
        let email = normalize_email(email).map_err(ManagerError::InvalidEmail)?;
        let user_id = user.id().to_string();
        let (access, refresh, expires) = stored_tokens;
        let link = OAuthAccount::new(
            oauth_name,
            identity.account_id.clone(),
            email.clone(),
            user_id.clone(),
        )
        .tokens(access, refresh, expires);
        match accounts.link(&link).await {
            Ok(()) => self.account_linked(user, oauth_name),
            Err(StoreError::Duplicate) => {
                let owner = accounts.user_of(oauth_name, &identity.account_id).await?;
                if owner.as_deref() != Some(user_id.as_str()) {
                    return Err(ManagerError::UserAlreadyExists);
                }
                accounts.update(&link).await?;
            }
            Err(error) => return Err(error.into()),
        }
        // FastAPI Users' `oauth_associate_callback`: `on_after_update(user, {})`.
        self.events
            .on_after_update(user, &super::UserUpdate::default())
            .await;
        Ok(())
    }

    /// Unlinks the provider account `account_id` at `oauth_name` from `user`,
    /// unless it is the user's last way in: a user without a usable password (one
    /// created through a provider that never set one) keeps at least one linked
    /// account. A concurrent unlink of the other account is caught by checking
    /// again afterwards and linking this one back.
    pub async fn oauth_unlink(
        &self,
        accounts: &dyn OAuthAccountStore,
        user: &U,
        oauth_name: &str,
        account_id: &str,
    ) -> Result<Unlinked, ManagerError> {
        let user_id = user.id().to_string();
        let linked = accounts.all_of_user(&user_id).await?;
        let Some(target) = linked
            .iter()
            .find(|account| account.oauth_name == oauth_name && account.account_id == account_id)
            .cloned()
        else {
            return Ok(Unlinked::NotFound);
        };
        let password = !user.hashed_password().starts_with('!');
        if !password && linked.len() < 2 {
            return Ok(Unlinked::LastSignIn);
        }
        if !accounts.unlink(oauth_name, account_id, &user_id).await? {
            return Ok(Unlinked::NotFound);
        }
        if !password && accounts.all_of_user(&user_id).await?.is_empty() {
            // Another request unlinked the other one meanwhile.
            match accounts.link(&target).await {
                Ok(()) | Err(StoreError::Duplicate) => return Ok(Unlinked::LastSignIn),
                Err(error) => return Err(error.into()),
            }
        }
        self.audit()
            .emit(|| crate::audit::SecurityEvent::AccountUnlinked {
                user_id,
                provider: oauth_name.to_owned(),
            });
        Ok(Unlinked::Done)
    }

    /// Unlinks every provider account of `user` after the account was recovered
    /// (a password reset, "log out everywhere"): a provider account an attacker
    /// linked with a stolen session would otherwise outlive the recovery. A user
    /// without a usable password keeps them (they are the only way in). How many
    /// were unlinked.
    pub async fn oauth_unlink_all(
        &self,
        accounts: &dyn OAuthAccountStore,
        user: &U,
    ) -> Result<usize, ManagerError> {
        if user.hashed_password().starts_with('!') {
            return Ok(0);
        }
        let user_id = user.id().to_string();
        let mut unlinked = 0;
        for account in accounts.all_of_user(&user_id).await? {
            if accounts
                .unlink(&account.oauth_name, &account.account_id, &user_id)
                .await?
            {
                unlinked += 1;
                self.audit()
                    .emit(|| crate::audit::SecurityEvent::AccountUnlinked {
                        user_id: user_id.clone(),
                        provider: account.oauth_name.clone(),
                    });
            }
        }
        Ok(unlinked)
    }

    /// Records that `user` can now sign in through `provider`.
    fn account_linked(&self, user: &U, provider: &str) {
        self.audit()
            .emit(|| crate::audit::SecurityEvent::AccountLinked {
                user_id: user.id().to_string(),
                provider: provider.to_owned(),
            });
    }
}
