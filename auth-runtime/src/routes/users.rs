//! FastAPI Users' users router: `/users/me` for the current user, `/users/{id}` for
//! active superusers.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use uuid::Uuid;

use super::body::{Fields, Reader};
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::manager::{ManagerError, UserUpdate};
use crate::password::MAX_PASSWORD_BYTES;
use crate::store::StoreError;
use crate::user::User;
use crate::warden::{Requirements, Warden};

const ACTIVE: Requirements = Requirements {
    active: true,
    verified: false,
    superuser: false,
};

const SUPERUSER: Requirements = Requirements {
    active: true,
    verified: false,
    superuser: true,
};

/// `GET /users/me`: the current active user as `UserRead`.
pub(crate) async fn me(
    State(warden): State<Warden>,
    request: Request,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        warden.authorize(request.headers(), None, ACTIVE).await?,
    ))
}

/// `PATCH /users/me`: e-mail and password only (the flags are ignored).
pub(crate) async fn patch_me(
    State(warden): State<Warden>,
    request: Request,
) -> Result<Json<User>, ApiError> {
    let user = warden.authorize(request.headers(), None, ACTIVE).await?;
    let update = read_update(&Fields::read(request).await?)?;
    apply(&warden, user, update, true).await
}

/// `GET /users/{id}`: 403 for anyone but an active superuser, before any lookup,
/// so nobody else learns whether an id exists; 404 for an unknown or malformed id.
pub(crate) async fn get_user(
    State(warden): State<Warden>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<User>, ApiError> {
    warden.authorize(request.headers(), None, SUPERUSER).await?;
    Ok(Json(find(&warden, &id).await?))
}

/// `PATCH /users/{id}`: any field, flags included.
pub(crate) async fn patch_user(
    State(warden): State<Warden>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<User>, ApiError> {
    warden.authorize(request.headers(), None, SUPERUSER).await?;
    let user = find(&warden, &id).await?;
    let update = read_update(&Fields::read(request).await?)?;
    apply(&warden, user, update, false).await
}

/// `DELETE /users/{id}`: 204.
pub(crate) async fn delete_user(
    State(warden): State<Warden>,
    Path(id): Path<String>,
    request: Request,
) -> Result<StatusCode, ApiError> {
    warden.authorize(request.headers(), None, SUPERUSER).await?;
    let user = find(&warden, &id).await?;
    match warden.manager().delete(&user).await {
        Ok(()) => {}
        // Deleted meanwhile by another request.
        Err(ManagerError::Store(StoreError::NotFound)) => return Err(ApiError::not_found()),
        Err(error) => return Err(internal(error)),
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn find(warden: &Warden, id: &str) -> Result<User, ApiError> {
    // FastAPI Users answers a malformed id like an unknown one: 404, not 422.
    let id = Uuid::parse_str(id).map_err(|_| ApiError::not_found())?;
    warden
        .manager()
        .get(id)
        .await?
        .ok_or_else(ApiError::not_found)
}

fn read_update(fields: &Fields) -> Result<UserUpdate, ApiError> {
    fields.require_json()?;
    let mut reader = Reader::new(fields);
    let email = reader.optional_email("email");
    let password = reader.optional_string("password", MAX_PASSWORD_BYTES);
    let update = UserUpdate {
        email,
        password: password.map(str::to_owned),
        is_active: reader.optional_bool("is_active"),
        is_superuser: reader.optional_bool("is_superuser"),
        is_verified: reader.optional_bool("is_verified"),
    };
    reader.finish()?;
    Ok(update)
}

async fn apply(
    warden: &Warden,
    user: User,
    update: UserUpdate,
    safe: bool,
) -> Result<Json<User>, ApiError> {
    match warden.manager().update(user, update, safe).await {
        Ok(user) => Ok(Json(user)),
        Err(ManagerError::UserAlreadyExists) => {
            Err(ApiError::code(ErrorCode::UpdateUserEmailAlreadyExists))
        }
        Err(ManagerError::InvalidPassword(invalid)) => Err(ApiError::code_with_reason(
            ErrorCode::UpdateUserInvalidPassword,
            invalid.reason,
        )),
        Err(ManagerError::Store(StoreError::NotFound)) => Err(ApiError::not_found()),
        Err(ManagerError::InvalidEmail(msg)) => Err(ApiError::validation(vec![FieldError::body(
            "email",
            "value_error",
            msg,
        )])),
        Err(error) => Err(internal(error)),
    }
}

pub(crate) fn internal(error: ManagerError) -> ApiError {
    tracing::error!(%error, "user manager failed");
    ApiError::internal()
}
