//! Guards: extractors that only exist for a request whose user passed a policy.
//!
//! `#[protected(active, verified)]` is sugar for taking a
//! `CurrentUser<(Active, Verified)>` parameter, which can be written by hand.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;

use crate::backend::AuthBackend;
use crate::error::ApiError;
use crate::user::User;
use crate::warden::Warden;

/// What a guarded handler requires of its user. Combine markers in a tuple:
/// `(Active, Verified)`, `(Active, Superuser, Backend<Jwt>)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a warden guard policy",
    note = "use `Active`, `Verified`, `Superuser`, `Backend<B>` or a tuple of them, e.g. `CurrentUser<(Active, Verified)>`"
)]
pub trait Policy: Send + Sync + 'static {
    /// An inactive user is refused with 401 (FastAPI Users' rule).
    const ACTIVE: bool = false;
    /// An unverified user is refused with 403.
    const VERIFIED: bool = false;
    /// A user who is not a superuser is refused with 403.
    const SUPERUSER: bool = false;
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

/// Only backend `B` is consulted: its transport is read and its strategy verifies.
/// Backends that share a secret and an audience accept each other's tokens (as
/// FastAPI Users' do); give `B` its own secret or audience to keep them apart.
pub struct Backend<B>(PhantomData<fn() -> B>);

impl Policy for () {}

impl Policy for Active {
    const ACTIVE: bool = true;
}

impl Policy for Verified {
    const VERIFIED: bool = true;
}

impl Policy for Superuser {
    const SUPERUSER: bool = true;
}

impl<B: AuthBackend> Policy for Backend<B> {
    fn backend() -> Option<&'static str> {
        Some(B::CONFIG.name)
    }
}

macro_rules! tuple_policy {
    ($($p:ident),+) => {
        impl<$($p: Policy),+> Policy for ($($p,)+) {
            const ACTIVE: bool = $($p::ACTIVE)||+;
            const VERIFIED: bool = $($p::VERIFIED)||+;
            const SUPERUSER: bool = $($p::SUPERUSER)||+;
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

/// Applies the policy: 401 for no user or (with `ACTIVE`) an inactive one, 403 for
/// a failed `VERIFIED` or `SUPERUSER` check, as FastAPI Users' `_authenticate`.
pub(crate) fn admit<P: Policy>(user: Option<User>) -> Result<User, ApiError> {
    admit_with(user, P::ACTIVE, P::VERIFIED, P::SUPERUSER)
}

pub(crate) fn admit_with(
    user: Option<User>,
    active: bool,
    verified: bool,
    superuser: bool,
) -> Result<User, ApiError> {
    let user = user.ok_or_else(ApiError::unauthorized)?;
    if active && !user.is_active {
        return Err(ApiError::unauthorized());
    }
    if (verified && !user.is_verified) || (superuser && !user.is_superuser) {
        return Err(ApiError::forbidden());
    }
    Ok(user)
}

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
/// `U` is what the handler receives: [`User`] itself, or any type with
/// `From<User>` (a view of the user the application defines).
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
    Warden: FromRef<S>,
    S: Send + Sync,
    P: Policy,
    U: From<User> + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let warden = Warden::from_ref(state);
        let user = warden.current_user(&parts.headers, P::backend()).await?;
        Ok(Self {
            user: U::from(admit::<P>(user)?),
            _policy: PhantomData,
        })
    }
}

/// `Option<CurrentUser<P>>`: `None` instead of a 401 or 403, like FastAPI Users'
/// `current_user(optional=True)`.
impl<S, P, U> OptionalFromRequestParts<S> for CurrentUser<P, U>
where
    Warden: FromRef<S>,
    S: Send + Sync,
    P: Policy,
    U: From<User> + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, ApiError> {
        let warden = Warden::from_ref(state);
        let user = warden.current_user(&parts.headers, P::backend()).await?;
        Ok(admit::<P>(user).ok().map(|user| Self {
            user: U::from(user),
            _policy: PhantomData,
        }))
    }
}

/// The user if one is authenticated and passes `P`, else `None`; never a 401.
/// `#[protected(optional)]` hands handlers this as an `Option<User>` parameter.
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
    Warden: FromRef<S>,
    S: Send + Sync,
    P: Policy,
    U: From<User> + Send,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_combine_flags() {
        type P = (Active, Superuser);
        const _: () = assert!(P::ACTIVE && P::SUPERUSER && !P::VERIFIED);
        assert_eq!(<() as Policy>::backend(), None);
    }
}
