//! The user manager: FastAPI Users' `BaseUserManager`. Registration, authentication,
//! updates, deletion, password reset and e-mail verification, with lifecycle hooks.

mod bans;
mod events;
mod flows;
#[cfg(feature = "oauth")]
mod oauth;
#[cfg(feature = "passkeys")]
mod passkeys;
mod update;

use crate::audit::Audit;
use std::sync::Arc;

pub use events::{
    DefaultEvents, InvalidPassword, SignIn, SignInKind, UserEvents, default_password_rule,
};
pub use flows::{ActionTokens, TokenSettings};
#[cfg(feature = "oauth")]
pub use oauth::{OAuthPolicy, Unlinked};
pub use update::UserUpdate;

use crate::model::{Account, UserId, UserModel};
use crate::password::{PasswordError, PasswordHasher};
use crate::session::{MemorySessions, Sessions};
use crate::store::{StoreError, UserStore};
use crate::user::{User, UserCreate, check_username, normalize_email};

/// The password hash of an account whose registration is still hashing: no
/// password matches it (see `password::verify_any`).
const PENDING_HASH: &str = crate::password::LOCKED_PREFIX;

/// How often an operation re-reads and re-applies when the user changed between its
/// read and its write.
const WRITE_ATTEMPTS: usize = 3;

/// Why a manager operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManagerError {
    /// The e-mail is not a valid address.
    #[error("{0}")]
    InvalidEmail(&'static str),
    /// The login (a username) is not valid; the message says why.
    #[error("{0}")]
    InvalidLogin(&'static str),
    /// The password hook refused the password.
    #[error(transparent)]
    InvalidPassword(#[from] InvalidPassword),
    /// The e-mail or login is taken.
    #[error("a user with this e-mail or login exists")]
    UserAlreadyExists,
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// The hasher failed.
    #[error(transparent)]
    Hashing(#[from] PasswordError),
    /// A reset or verify token is invalid, expired, used, or not for this user.
    #[error("bad token")]
    BadToken,
    /// The user is verified already.
    #[error("the user is verified already")]
    AlreadyVerified,
    /// The user exists and the password given is not theirs.
    #[error(
        "a user with this login exists and the password given is not theirs; log in as them and promote, or use another login"
    )]
    PasswordMismatch,
    /// A superuser cannot be banned: demote them first (`is_superuser: false`), so
    /// that no operator locks another out, or the last one out, by a slip.
    #[error("a superuser cannot be banned: demote them first")]
    BanSuperuser,
    /// The reset or verify tokens are not configured.
    #[error("{0} tokens are not configured: call WardenBuilder::{0}(TokenSettings::new(secret))")]
    NotConfigured(&'static str),
}

impl From<StoreError> for ManagerError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Duplicate => Self::UserAlreadyExists,
            other => Self::Store(other),
        }
    }
}

/// Which flags a new user gets.
#[derive(Clone, Copy)]
enum Flags {
    /// Public registration: active, nothing more, whatever was submitted.
    Public,
    /// An active, verified superuser.
    Superuser,
    /// As the application's code gave them (seeding).
    Given,
}

/// Registration, authentication and bootstrap over a store, a hasher and hooks.
pub struct UserManager<U: UserModel = User> {
    store: Arc<dyn UserStore<U>>,
    hasher: PasswordHasher,
    events: Arc<dyn UserEvents<U>>,
    tokens: Arc<ActionTokens>,
    sessions: Arc<Sessions>,
    audit: Audit,
}

impl<U: UserModel> Clone for UserManager<U> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            hasher: self.hasher.clone(),
            events: Arc::clone(&self.events),
            tokens: Arc::clone(&self.tokens),
            sessions: Arc::clone(&self.sessions),
            audit: self.audit.clone(),
        }
    }
}

impl<U: UserModel> std::fmt::Debug for UserManager<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserManager")
            .field("hasher", &self.hasher)
            .finish_non_exhaustive()
    }
}

impl<U: UserModel> UserManager<U> {
    /// A manager.
    pub fn new(
        store: Arc<dyn UserStore<U>>,
        hasher: PasswordHasher,
        events: Arc<dyn UserEvents<U>>,
    ) -> Self {
        Self::with_tokens(store, hasher, events, ActionTokens::default())
    }

    /// A manager that can also reset passwords and verify e-mails.
    pub fn with_tokens(
        store: Arc<dyn UserStore<U>>,
        hasher: PasswordHasher,
        events: Arc<dyn UserEvents<U>>,
        tokens: ActionTokens,
    ) -> Self {
        let sessions = match store.sessions() {
            Some(sessions) => Sessions::new(sessions, store.shared()),
            None => {
                if store.shared() {
                    tracing::warn!(
                        "the user store is shared but keeps no sessions: a logout or a password change ends tokens on this instance only"
                    );
                }
                Sessions::new(Arc::new(MemorySessions::default()), false)
            }
        };
        Self {
            store,
            hasher,
            events,
            tokens: Arc::new(tokens),
            sessions: Arc::new(sessions),
            audit: Audit::default(),
        }
    }

    /// The same manager, its sessions measuring time on `clock` (before any clone
    /// of it is taken).
    pub(crate) fn clocked(mut self, clock: crate::clock::Clock) -> Self {
        if let Some(sessions) = Arc::get_mut(&mut self.sessions) {
            sessions.set_clock(clock);
        }
        self
    }

    /// The same manager, its users holding at most `cap` live sessions each
    /// (before any clone of it is taken).
    pub(crate) fn capped(mut self, cap: usize) -> Self {
        if let Some(sessions) = Arc::get_mut(&mut self.sessions) {
            sessions.set_cap(cap);
        }
        self
    }

    /// The same manager, telling `audit` what happens to accounts (before any
    /// clone of it is taken).
    pub(crate) fn audited(mut self, audit: Audit) -> Self {
        if let Some(sessions) = Arc::get_mut(&mut self.sessions) {
            sessions.set_audit(audit.clone());
        }
        self.audit = audit;
        self
    }

    /// Where security events go.
    pub(crate) fn audit(&self) -> &Audit {
        &self.audit
    }

    /// The sessions: every login's, with their tokens.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// Ends every session and token of the user (ASVS 7.4.1, 7.4.2: after a password
    /// change or reset, a deactivation, a deletion, or "log out everywhere").
    pub async fn end_sessions(&self, user: &U) -> Result<(), StoreError> {
        self.sessions.end_user(&user.id().to_string()).await
    }

    /// The reset and verify token strategies.
    pub fn tokens(&self) -> &ActionTokens {
        &self.tokens
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn UserStore<U>> {
        &self.store
    }

    /// The hasher.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The hooks.
    pub fn events(&self) -> &Arc<dyn UserEvents<U>> {
        &self.events
    }

    /// The user with this id.
    pub async fn get(&self, id: &U::Id) -> Result<Option<U>, StoreError> {
        self.store.get(id).await
    }

    /// A new user of `create`'s e-mail and extra fields, not yet stored and without
    /// a password hash, and the password: the e-mail normalised (required if the
    /// model has one, left out if not), the login checked. Flags as `flags` says:
    /// public registration ignores the submitted ones (FastAPI Users' `safe=True`).
    fn build(create: UserCreate<U::Create>, flags: Flags) -> Result<(U, String), ManagerError> {
        let email = match (U::HAS_EMAIL, &create.email) {
            (true, Some(email)) => {
                Some(normalize_email(email).map_err(ManagerError::InvalidEmail)?)
            }
            (true, None) => return Err(ManagerError::InvalidEmail("an e-mail is required")),
            (false, _) => None,
        };
        let (is_active, is_superuser, is_verified) = match flags {
            Flags::Public => (true, false, false),
            Flags::Superuser => (true, true, true),
            Flags::Given => (
                create.is_active.unwrap_or(true),
                create.is_superuser.unwrap_or(false),
                create.is_verified.unwrap_or(false),
            ),
        };
        let account = Account {
            id: U::Id::generate().unwrap_or_else(U::Id::placeholder),
            email,
            hashed_password: String::new(),
            is_active,
            is_superuser,
            is_verified,
        };
        let user = U::new(account, create.extra);
        if U::LOGIN != "email" {
            check_username(user.login()).map_err(ManagerError::InvalidLogin)?;
        }
        Ok((user, create.password))
    }

    /// Whether another user holds `user`'s login or e-mail.
    async fn taken(&self, user: &U) -> Result<bool, ManagerError> {
        if self.store.get_by_login(user.login()).await?.is_some() {
            return Ok(true);
        }
        Ok(match user.email() {
            Some(email) if U::LOGIN != "email" => self.store.get_by_email(email).await?.is_some(),
            _ => false,
        })
    }

    /// Hashes `password` into `user` and stores it; the database's unique indexes
    /// settle races ([`ManagerError::UserAlreadyExists`]).
    async fn insert(&self, mut user: U, password: String) -> Result<U, ManagerError> {
        *user.account_mut().hashed_password = self.hasher.hash(password).await?;
        Ok(self.store.create(user).await?)
    }

    /// Registers a user as FastAPI Users' `create(safe=True)` does: the password rule
    /// runs first, then the duplicate check; the privileged flags in `create` are
    /// ignored. The database's unique index settles races.
    pub async fn register(&self, create: UserCreate<U::Create>) -> Result<U, ManagerError> {
        let (user, password) = Self::build(create, Flags::Public)?;
        self.events
            .validate_password(&password, user.login())
            .await?;
        if self.taken(&user).await? {
            return Err(ManagerError::UserAlreadyExists);
        }
        // Claim the login before hashing: of concurrent registrations of one address
        // the unique index lets one through and the others fail at once, without
        // spending a hash each (or filling the hasher's queue). Until its hash is
        // stored the claimed account holds a placeholder no password matches.
        let mut claim = user;
        *claim.account_mut().hashed_password = PENDING_HASH.to_owned();
        let claimed = self.store.create(claim).await?;
        // Finished (hash stored, or the claim removed) in a task of its own: a client
        // that goes away or a request timeout must not leave the placeholder behind.
        let manager = self.clone();
        let finish = tokio::spawn(async move {
            let hashed = match manager.hasher.hash(password).await {
                Ok(hashed) => hashed,
                Err(error) => {
                    manager.abandon(&claimed).await;
                    return Err(error.into());
                }
            };
            let mut user = claimed.clone();
            *user.account_mut().hashed_password = hashed;
            match manager.store.replace(&claimed, user).await {
                Ok(user) => Ok(user),
                Err(error) => {
                    manager.abandon(&claimed).await;
                    Err(ManagerError::from(error))
                }
            }
        });
        let user = finish
            .await
            .map_err(|error| ManagerError::Store(StoreError::Database(error.to_string())))??;
        self.events.on_after_register(&user).await;
        Ok(user)
    }

    /// Removes a registration's claim that could not be finished.
    async fn abandon(&self, claimed: &U) {
        if let Err(error) = self.store.delete(claimed.id()).await {
            tracing::warn!(%error, user_id = %claimed.id(), "could not remove an unfinished registration");
        }
    }

    /// Creates a user from the application's own code, at startup typically (the
    /// accounts an application ships with). Unlike [`register`](Self::register) the
    /// flags in `create` are kept and the password rule is not applied: the
    /// application chose the password, not a visitor, and the rule exists to stop
    /// visitors choosing weak ones. The password is hashed like any other. A user
    /// whose login exists already is left as it is (it may have changed its
    /// password since): seeding twice is harmless.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// use warden_runtime::{DefaultEvents, MemoryStore, PasswordHasher, User, UserCreate, UserManager};
    ///
    /// let manager = UserManager::<User>::new(
    ///     Arc::new(MemoryStore::new()),
    ///     PasswordHasher::new()?,
    ///     Arc::new(DefaultEvents),
    /// );
    /// let admin = manager.seed(UserCreate::new("secret", ()).with_email("admin@example.com")).await?;
    /// let again = manager.seed(UserCreate::new("other", ()).with_email("admin@example.com")).await?;
    /// assert_eq!(admin.id, again.id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn seed(&self, create: UserCreate<U::Create>) -> Result<U, ManagerError> {
        let (user, password) = Self::build(create, Flags::Given)?;
        if let Some(existing) = self.store.get_by_login(user.login()).await? {
            return Ok(existing);
        }
        match self.insert(user.clone(), password).await {
            // Another instance seeding at the same moment stored it first.
            Err(ManagerError::UserAlreadyExists) => self
                .store
                .get_by_login(user.login())
                .await?
                .ok_or(ManagerError::UserAlreadyExists),
            other => other,
        }
    }

    /// Checks credentials. Returns the user, active or not (the login route decides),
    /// or `None` for an unknown login or a wrong password: both pay one password
    /// verification, so timing does not tell them apart. An outdated hash is
    /// replaced on success.
    pub async fn authenticate(
        &self,
        login: &str,
        password: String,
    ) -> Result<Option<U>, ManagerError> {
        let found = self.find_login(login).await?;
        self.check_password(found, password).await
    }

    /// [`authenticate`](Self::authenticate) for a user already looked up with
    /// [`find_login`](Self::find_login) (`None`: the login named no one, and a dummy
    /// verification pays the same time).
    pub(crate) async fn check_password(
        &self,
        found: Option<U>,
        password: String,
    ) -> Result<Option<U>, ManagerError> {
        let Some(mut user) = found else {
            self.hasher.verify_dummy(password).await?;
            return Ok(None);
        };
        let verification = self
            .hasher
            .verify(password, user.hashed_password().to_owned())
            .await?;
        if !verification.valid {
            return Ok(None);
        }
        if let Some(upgraded) = verification.upgraded {
            let mut updated = user.clone();
            *updated.account_mut().hashed_password = upgraded;
            // Only over the row as read: an admin's change made during the hash wins.
            match self.store.replace(&user, updated).await {
                Ok(updated) => user = updated,
                Err(StoreError::Conflict) => {
                    tracing::debug!(user_id = %user.id(), "user changed during login; hash upgrade skipped");
                }
                Err(error) => {
                    tracing::warn!(%error, user_id = %user.id(), "could not store the upgraded password hash")
                }
            }
        }
        Ok(Some(user))
    }

    /// The user who logs in with `login`: an e-mail is looked up as registration
    /// normalises it (so `a@xn--mnchen-3ya.de` finds `a@münchen.de`), then as typed
    /// (a row stored before normalisation changed keeps logging in).
    pub(crate) async fn find_login(&self, login: &str) -> Result<Option<U>, StoreError> {
        // A username no one can have is looked up by no one: the database's lower()
        // may fold characters outside ASCII onto a real name (a Kelvin sign onto `k`).
        if U::LOGIN != "email" && check_username(login).is_err() {
            return Ok(None);
        }
        if U::LOGIN == "email"
            && let Ok(normalized) = normalize_email(login)
            && normalized != login
            && let Some(user) = self.store.get_by_login(&normalized).await?
        {
            return Ok(Some(user));
        }
        self.store.get_by_login(login).await
    }

    /// Creates an active, verified superuser, or promotes the existing user with this
    /// e-mail if `password` is theirs ([`ManagerError::PasswordMismatch`] otherwise: a
    /// stranger may have registered the address first).
    pub async fn ensure_superuser(&self, email: &str, password: String) -> Result<U, ManagerError>
    where
        U::Create: Default,
    {
        self.ensure_superuser_with(
            UserCreate::new(password, U::Create::default()).with_email(email),
        )
        .await
    }

    /// [`ensure_superuser`](Self::ensure_superuser) for any model: the superuser is
    /// the user `create` describes (its login, and its e-mail if the model has one),
    /// created if no user has that login.
    pub async fn ensure_superuser_with(
        &self,
        create: UserCreate<U::Create>,
    ) -> Result<U, ManagerError> {
        let (user, password) = Self::build(create, Flags::Superuser)?;
        if let Some(existing) = self.store.get_by_login(user.login()).await? {
            return self.promote(existing, password).await;
        }
        self.events
            .validate_password(&password, user.login())
            .await?;
        match self.insert(user.clone(), password.clone()).await {
            // Another instance starting at the same moment created it first: promote
            // that one, if the password is the same.
            Err(ManagerError::UserAlreadyExists) => {
                match self.store.get_by_login(user.login()).await? {
                    Some(existing) => self.promote(existing, password).await,
                    None => Err(ManagerError::UserAlreadyExists),
                }
            }
            other => other,
        }
    }

    /// Makes `user` an active, verified superuser if `password` is theirs: anyone may
    /// have registered the address through the public route.
    async fn promote(&self, mut user: U, password: String) -> Result<U, ManagerError> {
        let verification = self
            .hasher
            .verify(password, user.hashed_password().to_owned())
            .await?;
        if !verification.valid {
            return Err(ManagerError::PasswordMismatch);
        }
        let account = user.account_mut();
        *account.is_active = true;
        *account.is_superuser = true;
        *account.is_verified = true;
        Ok(self.store.update(user).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use uuid::Uuid;

    fn manager() -> UserManager {
        UserManager::new(
            Arc::new(MemoryStore::new()),
            PasswordHasher::new().unwrap(),
            Arc::new(DefaultEvents),
        )
    }

    fn create(email: &str, password: &str) -> UserCreate {
        UserCreate {
            email: Some(email.into()),
            password: password.into(),
            is_active: Some(false),
            is_superuser: Some(true),
            is_verified: Some(true),
            extra: (),
        }
    }

    #[test]
    fn default_rule() {
        assert_eq!(
            default_password_rule("short", "a@b.co").unwrap_err().reason,
            "Password should be at least 8 characters"
        );
        assert_eq!(
            default_password_rule("xxA@B.COxx", "a@b.co")
                .unwrap_err()
                .reason,
            "Password should not contain e-mail"
        );
        assert!(default_password_rule("long enough", "a@b.co").is_ok());
    }

    #[tokio::test]
    async fn register_ignores_flags_and_authenticate_works() {
        let manager = manager();
        let user = manager
            .register(create("Ann@Example.com", "s3cret-pass"))
            .await
            .unwrap();
        assert_eq!(user.email, "Ann@example.com");
        assert!(user.is_active && !user.is_superuser && !user.is_verified);
        assert!(matches!(
            manager
                .register(create("ann@example.COM", "s3cret-pass"))
                .await,
            Err(ManagerError::UserAlreadyExists)
        ));
        let found = manager
            .authenticate("ANN@example.com", "s3cret-pass".into())
            .await
            .unwrap();
        assert_eq!(found.map(|u| u.id), Some(user.id));
        assert!(
            manager
                .authenticate("ann@example.com", "wrong".into())
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            manager
                .authenticate("nobody@example.com", "x".into())
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn password_rule_runs_before_duplicate_check() {
        let manager = manager();
        manager
            .register(create("a@example.com", "s3cret-pass"))
            .await
            .unwrap();
        assert!(matches!(
            manager.register(create("a@example.com", "short")).await,
            Err(ManagerError::InvalidPassword(_))
        ));
    }

    #[tokio::test]
    async fn bcrypt_hash_is_upgraded_on_login() {
        let manager = manager();
        let legacy = User {
            id: Uuid::new_v4(),
            email: "old@example.com".into(),
            hashed_password: bcrypt::hash("legacy-password", 4).unwrap(),
            is_active: true,
            is_superuser: false,
            is_verified: false,
        };
        manager.store().create(legacy.clone()).await.unwrap();
        manager
            .authenticate("old@example.com", "legacy-password".into())
            .await
            .unwrap()
            .unwrap();
        let stored = manager.get(&legacy.id).await.unwrap().unwrap();
        assert!(stored.hashed_password.starts_with("$argon2id$"));
        assert!(
            manager
                .authenticate("old@example.com", "legacy-password".into())
                .await
                .unwrap()
                .is_some()
        );
    }

    #[tokio::test]
    async fn ensure_superuser_creates_then_promotes() {
        let manager = manager();
        let admin = manager
            .ensure_superuser("root@example.com", "admin-password".into())
            .await
            .unwrap();
        assert!(admin.is_superuser && admin.is_verified && admin.is_active);
        let user = manager
            .register(create("u@example.com", "user-password"))
            .await
            .unwrap();
        assert!(matches!(
            manager
                .ensure_superuser("U@example.com", "not-their-password".into())
                .await,
            Err(ManagerError::PasswordMismatch)
        ));
        let promoted = manager
            .ensure_superuser("U@example.com", "user-password".into())
            .await
            .unwrap();
        assert_eq!(promoted.id, user.id);
        assert!(promoted.is_superuser);
    }

    #[tokio::test]
    async fn deleting_a_user_forgets_its_second_factor() {
        let manager = manager();
        let ann = manager
            .register(create("ann@example.com", "s3cret-pass"))
            .await
            .unwrap();
        let bob = manager
            .register(create("bob@example.com", "s3cret-pass"))
            .await
            .unwrap();
        let two_factor = manager.store().two_factor().unwrap();
        for user in [&ann, &bob] {
            let id = user.id.to_string();
            two_factor.set_pending(&id, "sealed").await.unwrap();
            assert!(
                two_factor
                    .confirm(&id, "sealed", 1, 100, &["code".into()])
                    .await
                    .unwrap()
            );
        }
        manager.delete(&ann).await.unwrap();
        assert_eq!(two_factor.get(&ann.id.to_string()).await.unwrap(), None);
        assert_eq!(
            two_factor
                .recovery_codes_left(&ann.id.to_string())
                .await
                .unwrap(),
            0
        );
        assert!(
            two_factor
                .get(&bob.id.to_string())
                .await
                .unwrap()
                .unwrap()
                .is_enabled()
        );
    }
}
