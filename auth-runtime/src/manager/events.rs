//! FastAPI Users' lifecycle hooks and the password rule.

use async_trait::async_trait;

use super::UserUpdate;
use crate::model::UserModel;
use crate::user::User;

/// A password refused by [`UserEvents::validate_password`], with the reason sent to
/// the client (`{"code": "REGISTER_INVALID_PASSWORD", "reason": ...}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct InvalidPassword {
    /// Shown to the user.
    pub reason: String,
}

impl InvalidPassword {
    /// A refusal with this reason.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// FastAPI Users' `BaseUserManager` hooks, for users of model `U`. Every method has
/// a default; override the ones you need.
///
/// ```
/// use warden_runtime::{InvalidPassword, User, UserEvents};
///
/// struct Events;
/// #[warden_runtime::async_trait]
/// impl UserEvents for Events {
///     async fn validate_password(&self, password: &str, _email: &str) -> Result<(), InvalidPassword> {
///         if password.chars().count() < 12 {
///             return Err(InvalidPassword::new("Password should be at least 12 characters"));
///         }
///         Ok(())
///     }
///     async fn on_after_register(&self, user: &User) {
///         println!("User {} has registered.", user.id);
///     }
/// }
/// ```
#[async_trait]
pub trait UserEvents<U: UserModel = User>: Send + Sync + 'static {
    /// Checks a new password of the user who logs in with `login` (the e-mail, or
    /// the username of a `login = username` model). The default is the rule FastAPI
    /// Users' documentation shows: at least 8 characters, and not containing the
    /// e-mail (the username).
    async fn validate_password(&self, password: &str, login: &str) -> Result<(), InvalidPassword> {
        if U::LOGIN == "email" {
            default_password_rule(password, login)
        } else {
            password_rule(password, login, "Password should not contain username")
        }
    }

    /// After a user registered.
    async fn on_after_register(&self, _user: &U) {}

    /// After a user logged in: a password login on any backend, or a provider's
    /// callback (FastAPI Users fires it there only; a refresh or a
    /// re-authentication does not).
    async fn on_after_login(&self, _user: &U) {}

    /// Whether `user` may sign in as `sign_in` describes: every way in asks (a
    /// password on any backend, a provider, a refresh, a re-authentication), after
    /// warden's own checks (active; verified when required). `false` refuses with
    /// the route's own refusal (400 `LOGIN_BAD_CREDENTIALS` for a login,
    /// `invalid_grant` for a refresh token, 401 for a refresh by access token), so
    /// the client learns nothing more. The default admits everyone.
    ///
    /// ```
    /// use warden_runtime::{async_trait, User, UserEvents};
    /// use warden_runtime::signin::{SignIn, SignInKind};
    /// struct NoRobots;
    /// #[async_trait]
    /// impl UserEvents for NoRobots {
    ///     async fn admit(&self, user: &User, sign_in: &SignIn<'_>) -> bool {
    ///         // Robots may refresh their sessions but not start new ones.
    ///         sign_in.kind != SignInKind::Start || !user.email.ends_with("@robots.example")
    ///     }
    /// }
    /// ```
    async fn admit(&self, _user: &U, _sign_in: &SignIn<'_>) -> bool {
        true
    }

    /// After a user was updated, with the fields the update set.
    async fn on_after_update(&self, _user: &U, _update: &UserUpdate<U::Update>) {}

    /// After a verification was requested: deliver `token` to the user (by e-mail).
    /// Runs in a task of its own: the request answers 202 without waiting for it (so
    /// that an existing account's answer takes no longer than an unknown one's); a panic
    /// is logged.
    async fn on_after_request_verify(&self, _user: &U, _token: &str) {}

    /// After a user verified their e-mail.
    async fn on_after_verify(&self, _user: &U) {}

    /// After a password reset was requested: deliver `token` to the user (by e-mail).
    /// Runs in a task of its own: the request answers 202 without waiting for it (so
    /// that an existing account's answer takes no longer than an unknown one's); a panic
    /// is logged.
    async fn on_after_forgot_password(&self, _user: &U, _token: &str) {}

    /// After a user reset their password.
    async fn on_after_reset_password(&self, _user: &U) {}

    /// Before a user is deleted.
    async fn on_before_delete(&self, _user: &U) {}

    /// After a user was deleted.
    async fn on_after_delete(&self, _user: &U) {}
}

/// The default hooks.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultEvents;

impl<U: UserModel> UserEvents<U> for DefaultEvents {}

/// At least 8 characters, and the e-mail (any case) not inside the password.
pub fn default_password_rule(password: &str, email: &str) -> Result<(), InvalidPassword> {
    password_rule(password, email, "Password should not contain e-mail")
}

fn password_rule(
    password: &str,
    login: &str,
    contains_login: &'static str,
) -> Result<(), InvalidPassword> {
    if password.chars().count() < 8 {
        return Err(InvalidPassword::new(
            "Password should be at least 8 characters",
        ));
    }
    if !login.is_empty() && password.to_lowercase().contains(&login.to_lowercase()) {
        return Err(InvalidPassword::new(contains_login));
    }
    Ok(())
}

/// What a sign-in does to the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignInKind {
    /// A new login: a session opens and `on_after_login` fires.
    Start,
    /// A refresh: the session goes on, with its sign-in time and `amr`.
    Continue,
    /// A re-authentication: the same session, a new sign-in time and `amr`.
    Reauthenticate,
}

/// A sign-in about to be granted, as [`UserEvents::admit`]
/// sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct SignIn<'a> {
    /// The backend whose tokens it would grant.
    pub backend: &'a str,
    /// Start, continue or re-authenticate.
    pub kind: SignInKind,
    /// How the user proved who they are (RFC 8176 values).
    pub amr: &'a [String],
}
