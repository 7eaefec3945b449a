//! Guards: extractors that only exist for a request whose user passed a policy.
//!
//! `#[protected(active, verified)]` is sugar for running a
//! `CurrentUser<(Active, Verified), Model>` guard first; the handler's model-typed
//! parameter then receives the admitted user. Both can be written by hand.

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;

use crate::authn::Access;
use crate::backend::AuthBackend;
use crate::error::ApiError;
use crate::model::UserModel;
use crate::user::User;
use crate::warden::Warden;

/// Application state that holds a [`Warden`]: `Warden<U>` itself, or the
/// application's own state.
///
/// ```
/// use warden_runtime::{AuthState, User, Warden};
///
/// #[derive(Clone)]
/// struct AppState {
///     warden: Warden<User>,
///     greeting: &'static str,
/// }
///
/// impl AuthState for AppState {
///     type User = User;
///     fn warden(&self) -> &Warden<User> {
///         &self.warden
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "the router's state `{Self}` does not hold a warden",
    note = "give the router `.with_state(warden)`, or implement `warden::AuthState` for your state type"
)]
pub trait AuthState: Clone + Send + Sync + 'static {
    /// The user model.
    type User: UserModel;
    /// The warden.
    fn warden(&self) -> &Warden<Self::User>;
}

impl<U: UserModel> AuthState for Warden<U> {
    type User = U;
    fn warden(&self) -> &Warden<U> {
        self
    }
}

/// What a guarded handler requires of its user. Combine markers in a tuple:
/// `(Active, Verified)`, `(Active, Superuser, Backend<Jwt>)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a warden guard policy",
    note = "use `Active`, `Verified`, `Superuser`, `Fresh<N>`, `Mfa`, `Backend<B>` or a tuple of them, e.g. `CurrentUser<(Active, Verified)>`"
)]
pub trait Policy: Send + Sync + 'static {
    /// The rule.
    const ACCESS: Access = Access::ANY;
    /// Only this backend's tokens count; `None`: every backend, in order.
    fn backend() -> Option<&'static str> {
        None
    }
}

/// Any authenticated user, active or not (FastAPI Users' `current_user()`).
pub type Authenticated = ();

/// The user must be active.
#[derive(Debug, Clone, Copy)]
pub struct Active;

/// The user must be verified.
#[derive(Debug, Clone, Copy)]
pub struct Verified;

/// The user must be a superuser.
#[derive(Debug, Clone, Copy)]
pub struct Superuser;

/// The user must have signed in (or re-authenticated) at most `SECONDS` ago: older
/// sign-ins are refused with 401 `{"detail": "REAUTHENTICATION_REQUIRED"}` and
/// `WWW-Authenticate: Bearer error="insufficient_user_authentication",
/// max_age=SECONDS` (RFC 9470), which `POST /auth/{name}/reauthenticate` answers.
/// A refresh keeps the sign-in time, so it never makes a session fresh.
///
/// ```
/// use warden_runtime::{Active, CurrentUser, Fresh, User};
/// // What `#[protected(active, fresh = 300)]` means.
/// async fn change_payout_account(user: CurrentUser<(Active, Fresh<300>), User>) {}
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Fresh<const SECONDS: u32>;

/// The session must have passed a second factor (its `amr` holds RFC 8176's `mfa`:
/// a TOTP or recovery code after the password, a passkey with user verification, a
/// provider that says it checked one). Others are refused with 401
/// `{"detail": "REAUTHENTICATION_REQUIRED"}` and `WWW-Authenticate: Bearer
/// error="insufficient_user_authentication", acr_values="..."` (RFC 9470), which a
/// re-authentication with a code answers.
///
/// ```
/// use warden_runtime::{Active, CurrentUser, Mfa, User};
/// // What `#[protected(active, mfa)]` means.
/// async fn export_all_customers(user: CurrentUser<(Active, Mfa), User>) {}
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Mfa;

/// Only backend `B` is consulted: its transport is read and its strategy verifies.
/// Backends that share a secret and an audience accept each other's tokens (as
/// FastAPI Users' do); give `B` its own secret or audience to keep them apart.
pub struct Backend<B>(PhantomData<fn() -> B>);

impl Policy for () {}

impl Policy for Active {
    const ACCESS: Access = Access {
        active: true,
        ..Access::ANY
    };
}

impl Policy for Verified {
    const ACCESS: Access = Access {
        verified: true,
        ..Access::ANY
    };
}

impl Policy for Superuser {
    const ACCESS: Access = Access {
        superuser: true,
        ..Access::ANY
    };
}

impl<const SECONDS: u32> Policy for Fresh<SECONDS> {
    const ACCESS: Access = Access {
        fresh: Some(SECONDS),
        ..Access::ANY
    };
}

impl Policy for Mfa {
    const ACCESS: Access = Access {
        mfa: true,
        ..Access::ANY
    };
}

impl<B: AuthBackend> Policy for Backend<B> {
    fn backend() -> Option<&'static str> {
        Some(B::CONFIG.name)
    }
}

macro_rules! tuple_policy {
    ($($p:ident),+) => {
        impl<$($p: Policy),+> Policy for ($($p,)+) {
            const ACCESS: Access = Access::ANY $(.and($p::ACCESS))+;
            fn backend() -> Option<&'static str> {
                None $(.or_else($p::backend))+
            }
        }
    };
}

tuple_policy!(A);
tuple_policy!(A, B);
tuple_policy!(A, B, C);
tuple_policy!(A, B, C, D);
tuple_policy!(A, B, C, D, E);
tuple_policy!(A, B, C, D, E, F);

/// The user a `#[protected]` guard admitted, handed to the handler's model-typed
/// parameter through the request's extensions.
#[derive(Clone)]
struct Admitted<U>(Option<U>);

/// The authenticated user of a request that passed policy `P`.
///
/// ```
/// use axum::Json;
/// use warden_runtime::{Active, CurrentUser, User, Verified};
///
/// async fn me(CurrentUser { user, .. }: CurrentUser<(Active, Verified)>) -> Json<User> {
///     Json(user)
/// }
/// ```
///
/// `U` is what the handler receives: the warden's user model, or any type with
/// `From<Model>` (a view of the user the application defines).
pub struct CurrentUser<P: Policy = Active, U = User> {
    /// The user, loaded from the store for this request.
    pub user: U,
    _policy: PhantomData<fn() -> P>,
}

impl<P: Policy, U> CurrentUser<P, U> {
    /// The user.
    pub fn into_inner(self) -> U {
        self.user
    }
}

impl<P: Policy, U> std::ops::Deref for CurrentUser<P, U> {
    type Target = U;

    fn deref(&self) -> &U {
        &self.user
    }
}

impl<P: Policy, U: std::fmt::Debug> std::fmt::Debug for CurrentUser<P, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CurrentUser").field(&self.user).finish()
    }
}

impl<S, P, U> FromRequestParts<S> for CurrentUser<P, U>
where
    S: AuthState,
    P: Policy,
    U: From<S::User> + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let user = policy_user::<S, P>(parts, state).await?;
        parts.extensions.insert(Admitted(Some(user.clone())));
        Ok(Self {
            user: U::from(user),
            _policy: PhantomData,
        })
    }
}

/// `Option<CurrentUser<P>>`: `None` instead of a 401 or 403, like FastAPI Users'
/// `current_user(optional=True)`.
impl<S, P, U> OptionalFromRequestParts<S> for CurrentUser<P, U>
where
    S: AuthState,
    P: Policy,
    U: From<S::User> + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, ApiError> {
        let user = optional_user::<S, P>(parts, state).await?;
        parts.extensions.insert(Admitted(user.clone()));
        Ok(user.map(|user| Self {
            user: U::from(user),
            _policy: PhantomData,
        }))
    }
}

/// The user of a request that passes `P`, or its 401/403.
async fn policy_user<S: AuthState, P: Policy>(
    parts: &Parts,
    state: &S,
) -> Result<S::User, ApiError> {
    let found = state
        .warden()
        .authenticator()
        .authorize(&parts.method, &parts.headers, P::backend(), P::ACCESS)
        .await?;
    Ok(found.user)
}

/// The user if one is authenticated and passes `P`, else `None`: 401 and 403 become
/// `None`; a store out of reach is still a 503.
async fn optional_user<S: AuthState, P: Policy>(
    parts: &Parts,
    state: &S,
) -> Result<Option<S::User>, ApiError> {
    match policy_user::<S, P>(parts, state).await {
        Ok(user) => Ok(Some(user)),
        Err(error) if error.status() == 401 || error.status() == 403 => Ok(None),
        Err(error) => Err(error),
    }
}

/// The user if one is authenticated and passes `P`, else `None`; never a 401.
pub struct OptionalUser<P: Policy = Authenticated, U = User> {
    /// The user, or `None`.
    pub user: Option<U>,
    _policy: PhantomData<fn() -> P>,
}

impl<P: Policy, U: std::fmt::Debug> std::fmt::Debug for OptionalUser<P, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("OptionalUser").field(&self.user).finish()
    }
}

impl<S, P, U> FromRequestParts<S> for OptionalUser<P, U>
where
    S: AuthState,
    P: Policy,
    U: From<S::User> + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let found =
            <CurrentUser<P, U> as OptionalFromRequestParts<S>>::from_request_parts(parts, state)
                .await?;
        Ok(Self {
            user: found.map(CurrentUser::into_inner),
            _policy: PhantomData,
        })
    }
}

/// `#[protected]`'s guard: runs the pipeline and policy `P` first, and hands the
/// admitted user to the handler's model-typed parameter (if any). It names no model:
/// the state's [`AuthState::User`] is the one.
///
/// No `Policy` bound on the type itself: `#[protected]` checks the policy once, in
/// its own check ([`require_policy`]), so a wrong `backend = ...` is one error.
#[doc(hidden)]
pub struct Guard<P>(PhantomData<fn() -> P>);

impl<S: AuthState, P: Policy> FromRequestParts<S> for Guard<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let user = policy_user::<S, P>(parts, state).await?;
        parts.extensions.insert(Admitted(Some(user)));
        Ok(Self(PhantomData))
    }
}

/// `#[protected(optional)]`'s guard: like [`Guard`], but no user (or one `P`
/// refuses) is `None` for the handler's `Option<Model>` parameter, never a 401.
#[doc(hidden)]
pub struct OptionalGuard<P>(PhantomData<fn() -> P>);

/// `#[protected]`'s check that its flags make a policy (a `backend = B` that is not
/// an `AuthBackend` fails here, spanned at `B`).
#[doc(hidden)]
pub fn require_policy<P: Policy>() {}

impl<S: AuthState, P: Policy> FromRequestParts<S> for OptionalGuard<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let user = optional_user::<S, P>(parts, state).await?;
        parts.extensions.insert(Admitted(user));
        Ok(Self(PhantomData))
    }
}

/// A model-typed handler parameter: the user `#[protected]`'s guard admitted, or,
/// with no guard before it, an active user (the safe default).
#[doc(hidden)]
pub async fn model_from_parts<S: AuthState>(
    parts: &mut Parts,
    state: &S,
) -> Result<S::User, ApiError> {
    match parts.extensions.get::<Admitted<S::User>>() {
        Some(Admitted(Some(user))) => Ok(user.clone()),
        Some(Admitted(None)) => Err(ApiError::unauthorized()),
        None => Ok(state
            .warden()
            .authenticator()
            .authorize(&parts.method, &parts.headers, None, Access::ACTIVE)
            .await?
            .user),
    }
}

/// An `Option<Model>` handler parameter: what `#[protected(optional)]`'s guard
/// admitted, or, with no guard before it, any authenticated user.
#[doc(hidden)]
pub async fn optional_model_from_parts<S: AuthState>(
    parts: &mut Parts,
    state: &S,
) -> Result<Option<S::User>, ApiError> {
    match parts.extensions.get::<Admitted<S::User>>() {
        Some(Admitted(user)) => Ok(user.clone()),
        None => optional_user::<S, Authenticated>(parts, state).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_combine_flags() {
        type P = (Active, Superuser);
        const _: () = assert!(P::ACCESS.active && P::ACCESS.superuser && !P::ACCESS.verified);
        assert_eq!(<() as Policy>::backend(), None);
    }
}
