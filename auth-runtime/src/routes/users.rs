//! FastAPI Users' users router: `/users/me` for the current user, `/users/{id}` for
//! active superusers.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;

use super::RouteUser;
use super::body::{Fields, Reader};
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::guard::{Active, Superuser};
use crate::manager::{ManagerError, UserUpdate};
use crate::model::{UserId, UserModel};
use crate::password::{MAX_PASSWORD_BYTES, PasswordError};
use crate::store::StoreError;
use crate::throttle::Account;
use crate::warden::Warden;

type Admin = (Active, Superuser);

/// What changes a password or an e-mail demands: an interactive session, never an
/// API key (403).
type Changing<P> = (P, crate::scope::Interactive);

/// `GET /users/me`: the current active user as `UserRead`.
/// Served to a session the two-factor policy limits, so an enrolling client can
/// show who is signed in.
pub(crate) async fn me<U: UserModel>(RouteUser(user, _): RouteUser<U, Active, true>) -> Json<U> {
    Json(user)
}

/// `PATCH /users/me`: e-mail, password and the model's `update` fields (the flags
/// are ignored).
pub(crate) async fn patch_me<U: UserModel>(
    State(warden): State<Warden<U>>,
    RouteUser(user, _): RouteUser<U, Changing<Active>>,
    request: Request,
) -> Result<Json<U>, ApiError> {
    let address = warden.client_address(request.extensions(), request.headers());
    // The route itself serves an impersonation session (a superuser may fix a
    // profile field for the user); its credentials it does not change.
    let impersonated = warden
        .authenticator()
        .authenticate(request.headers(), None)
        .await?
        .is_some_and(|found| found.actor.is_some());
    let fields = Fields::read(request).await?;
    let update = read_update::<U>(&fields)?;
    if impersonated && changes_credentials(&user, &update) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::ImpersonationForbidden.as_str().into(),
        ));
    }
    if warden.requires_current_password() {
        reauthenticate(&warden, &user, &update, &fields, address).await?;
    }
    apply(&warden, user, update, true).await
}

/// With [`WardenBuilder::require_current_password`](crate::WardenBuilder::require_current_password),
/// a change of password, e-mail or login needs the current password beside it
/// (ASVS 6.2.3): a stolen session alone cannot take the account over. 422 without
/// it, 400 `UPDATE_USER_BAD_CURRENT_PASSWORD` when it is wrong. Each guess counts
/// against the account and the address as a login does (429 past the limits): a
/// stolen session must not become an unthrottled password oracle (ASVS 2.2.1).
async fn reauthenticate<U: UserModel>(
    warden: &Warden<U>,
    user: &U,
    update: &UserUpdate<U::Update>,
    fields: &Fields,
    address: Option<std::net::IpAddr>,
) -> Result<(), ApiError> {
    if !changes_credentials(user, update) {
        return Ok(());
    }
    let mut reader = Reader::new(fields);
    let current = reader.string("current_password", MAX_PASSWORD_BYTES);
    let current = reader.finish_with(current)?;
    check_current_password(warden, user, current, address).await
}

/// Whether `update` changes how `user` signs in: the password, the e-mail or the
/// login.
fn changes_credentials<U: UserModel>(user: &U, update: &UserUpdate<U::Update>) -> bool {
    let mut renamed = user.clone();
    renamed.apply(update.extra.clone());
    update.password.is_some()
        || (U::HAS_EMAIL && update.email.is_some())
        || renamed.login() != user.login()
}

/// Checks `user`'s current password, given to confirm a sensitive change: each
/// guess counts against the account and the address as a login does (429 past the
/// limits), keyed on its id as login counts it once the user is found; 400
/// `UPDATE_USER_BAD_CURRENT_PASSWORD` when it is wrong.
pub(crate) async fn check_current_password<U: UserModel>(
    warden: &Warden<U>,
    user: &U,
    current: &str,
    address: Option<std::net::IpAddr>,
) -> Result<(), ApiError> {
    let id = user.id().to_string();
    let attempt = match warden.throttle() {
        Some(throttle) => Some(
            throttle
                .check_login(Account::User(&id), None, address)
                .await?,
        ),
        None => None,
    };
    let verification = warden
        .manager()
        .hasher()
        .verify(current.to_owned(), user.hashed_password().to_owned())
        .await
        .map_err(|error| internal(error.into()))?;
    if verification.valid {
        if let (Some(throttle), Some(attempt)) = (warden.throttle(), &attempt) {
            throttle.succeeded(attempt).await?;
        }
        Ok(())
    } else {
        if let (Some(throttle), Some(attempt)) = (warden.throttle(), &attempt) {
            throttle.failed_login(attempt).await?;
        }
        Err(warden.error(ErrorCode::UpdateUserBadCurrentPassword))
    }
}

/// `GET /users/{id}`: 403 for anyone but an active superuser, before any lookup,
/// so nobody else learns whether an id exists; 404 for an unknown or malformed id.
pub(crate) async fn get_user<U: UserModel>(
    State(warden): State<Warden<U>>,
    _admin: RouteUser<U, Admin>,
    Path(id): Path<String>,
) -> Result<Json<U>, ApiError> {
    Ok(Json(find(&warden, &id).await?))
}

/// `PATCH /users/{id}`: any field, flags included.
pub(crate) async fn patch_user<U: UserModel>(
    State(warden): State<Warden<U>>,
    _admin: RouteUser<U, Changing<Admin>>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<U>, ApiError> {
    let user = find(&warden, &id).await?;
    let update = read_update::<U>(&Fields::read(request).await?)?;
    apply(&warden, user, update, false).await
}

/// `DELETE /users/{id}`: 204.
pub(crate) async fn delete_user<U: UserModel>(
    State(warden): State<Warden<U>>,
    _admin: RouteUser<U, Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = find(&warden, &id).await?;
    match warden.manager().delete(&user).await {
        Ok(()) => {}
        // Deleted meanwhile by another request.
        Err(ManagerError::Store(StoreError::NotFound)) => return Err(ApiError::not_found()),
        Err(error) => return Err(internal(error)),
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn find<U: UserModel>(warden: &Warden<U>, id: &str) -> Result<U, ApiError> {
    // FastAPI Users answers a malformed id like an unknown one: 404, not 422.
    let id = U::Id::parse(id).ok_or_else(ApiError::not_found)?;
    warden
        .manager()
        .get(&id)
        .await?
        .ok_or_else(ApiError::not_found)
}

fn read_update<U: UserModel>(fields: &Fields) -> Result<UserUpdate<U::Update>, ApiError> {
    fields.require_json()?;
    let mut reader = Reader::new(fields);
    // A model without an e-mail ignores one, as pydantic ignores unknown fields.
    let email = if U::HAS_EMAIL {
        reader.optional_email("email")
    } else {
        None
    };
    let password = reader.optional_string("password", MAX_PASSWORD_BYTES);
    let is_active = reader.optional_bool("is_active");
    let is_superuser = reader.optional_bool("is_superuser");
    let is_verified = reader.optional_bool("is_verified");
    // A model without roles ignores them, as pydantic ignores unknown fields.
    let roles = if U::ROLES.is_empty() {
        None
    } else {
        reader.optional_names("roles", U::ROLES)
    };
    let extra = reader.extra(U::read_update);
    let update = UserUpdate {
        email,
        password: password.map(str::to_owned),
        is_active,
        is_superuser,
        is_verified,
        roles,
        extra,
    };
    reader.finish()?;
    Ok(update)
}

async fn apply<U: UserModel>(
    warden: &Warden<U>,
    user: U,
    update: UserUpdate<U::Update>,
    safe: bool,
) -> Result<Json<U>, ApiError> {
    match warden.manager().update(user, update, safe).await {
        Ok(user) => Ok(Json(user)),
        Err(ManagerError::UserAlreadyExists) => {
            Err(warden.error(ErrorCode::UpdateUserEmailAlreadyExists))
        }
        Err(ManagerError::InvalidPassword(invalid)) => {
            Err(warden.error_with_reason(ErrorCode::UpdateUserInvalidPassword, invalid.reason))
        }
        Err(ManagerError::Store(StoreError::NotFound)) => Err(ApiError::not_found()),
        Err(ManagerError::InvalidEmail(msg)) => Err(ApiError::validation(vec![FieldError::body(
            "email",
            "value_error",
            msg,
        )])),
        Err(ManagerError::InvalidLogin(msg)) => Err(ApiError::validation(vec![FieldError::body(
            U::LOGIN,
            "value_error",
            msg,
        )])),
        Err(error) => Err(internal(error)),
    }
}

/// A manager failure no route answers specifically: 503 when the store is out of
/// reach, else 500; logged either way, never sent.
pub(crate) fn internal(error: ManagerError) -> ApiError {
    match error {
        ManagerError::Store(error) => ApiError::from(error),
        // A login flood filled the hasher's queue: this request is refused at once
        // rather than waiting behind it.
        ManagerError::Hashing(PasswordError::Busy(queued)) => {
            tracing::warn!(queued, "password hasher busy; answering 503");
            ApiError::unavailable().retry_after(1)
        }
        error => {
            tracing::error!(%error, "user manager failed");
            ApiError::internal()
        }
    }
}
