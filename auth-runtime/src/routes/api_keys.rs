//! warden's API key routes (FastAPI Users has none): a signed-in user creates,
//! lists and revokes their keys under `/users/me/api-keys`; a superuser lists and
//! revokes anyone's under `/users/{id}/api-keys`. Every one of them refuses an API
//! key (403): a key never manages keys, so a leaked one cannot mint others or
//! outlive its revocation.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use serde_json::{Value, json};

use super::body::{Fields, Reader};
use crate::audit::SecurityEvent;
use crate::authn::{Access, Authenticated};
use crate::error::{ApiError, FieldError};
use crate::model::{UserId as _, UserModel};
use crate::openapi::ApiKeyOp;
use crate::store::StoredApiKey;
use crate::strategy::{API_KEY_PREFIX, generate_key};
use crate::warden::{ApiKeys, Warden};

/// Creating a key needs a sign-in of the last five minutes (ASVS 6.2.3's
/// re-authentication before adding a credential), as adding a passkey does.
const FRESH_SECONDS: u32 = 300;

/// The longest a name may be, in characters.
const MAX_NAME_CHARS: usize = 64;

/// The longest lifetime a key may be given: ten years.
const MAX_DAYS: u64 = 3650;

/// The handler of `op`, and what it does (the route table's words).
pub(crate) fn handler<U: UserModel>(op: ApiKeyOp) -> (&'static str, MethodRouter<Warden<U>>) {
    match op {
        ApiKeyOp::Create => (
            "create an API key of the current user (shown once)",
            post(create::<U>),
        ),
        ApiKeyOp::List => ("the current user's API keys", get(list::<U>)),
        ApiKeyOp::Delete => (
            "revoke one of the current user's API keys",
            delete(revoke::<U>),
        ),
        ApiKeyOp::UserList => ("a user's API keys (superuser)", get(user_list::<U>)),
        ApiKeyOp::UserDelete => (
            "revoke one of a user's API keys (superuser)",
            delete(user_revoke::<U>),
        ),
    }
}

/// The current active user (verified when the warden requires it), in an
/// interactive session (never an API key), signed in within `fresh` seconds when
/// given; a superuser with `superuser`.
async fn current<'a, U: UserModel>(
    warden: &'a Warden<U>,
    method: &Method,
    headers: &'a HeaderMap,
    fresh: Option<u32>,
    superuser: bool,
) -> Result<Authenticated<'a, U>, ApiError> {
    let access = Access::ACTIVE.and(Access {
        verified: warden.requires_verification(),
        superuser,
        fresh,
        caller: crate::authn::Caller::SignedIn,
        ..Access::ANY
    });
    warden
        .authenticator()
        .authorize(method, headers, None, access)
        .await
}

fn keys<U: UserModel>(warden: &Warden<U>) -> Result<&ApiKeys, ApiError> {
    warden
        .inner
        .api_keys
        .as_ref()
        .ok_or_else(ApiError::not_found)
}

/// A Unix time as RFC 3339 (UTC), as FastAPI renders datetimes.
fn datetime(seconds: i64) -> Value {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .map_or(Value::Null, Value::from)
}

/// `ApiKeyRead`: everything but the secret, which is not kept.
fn read(key: &StoredApiKey) -> Value {
    json!({
        "id": key.id,
        "name": key.name,
        "prefix": format!("{API_KEY_PREFIX}{}", key.id),
        "scopes": key.scopes,
        "created_at": datetime(key.created_at),
        "expires_at": key.expires_at.map_or(Value::Null, datetime),
        "last_used_at": key.last_used_at.map_or(Value::Null, datetime),
    })
}

/// The name: 1 to 64 characters once trimmed.
fn name_of(reader: &mut Reader<'_>) -> Option<String> {
    let name = reader.string("name", MAX_NAME_CHARS * 4)?.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        reader.push(FieldError::body(
            "name",
            "string_too_long",
            "The name has 1 to 64 characters",
        ));
        return None;
    }
    Some(name)
}

/// `expires_in_days`: 1 to 3650, or left out / null for a key that never expires.
fn days_of(fields: &Fields, errors: &mut Vec<FieldError>) -> Option<u64> {
    match fields.map().get("expires_in_days") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_u64() {
            Some(days) if (1..=MAX_DAYS).contains(&days) => Some(days),
            _ => {
                errors.push(FieldError::body(
                    "expires_in_days",
                    "int_type",
                    format!("Input should be a whole number of days from 1 to {MAX_DAYS}, or null"),
                ));
                None
            }
        },
    }
}

/// `POST /users/me/api-keys` `{"name", "scopes", "expires_in_days"}`: 201
/// `ApiKeyCreated`, the key in it this once.
async fn create<U: UserModel>(
    State(warden): State<Warden<U>>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, ApiError> {
    let found = current(&warden, &Method::POST, &headers, Some(FRESH_SECONDS), false).await?;
    let keys = keys(&warden)?;
    fields.require_json()?;
    let mut errors = Vec::new();
    let days = days_of(&fields, &mut errors);
    let mut reader = Reader::new(&fields);
    for error in errors {
        reader.push(error);
    }
    // Left out: none.
    let scopes = reader
        .optional_names("scopes", keys.scopes)
        .unwrap_or_default();
    let name = name_of(&mut reader);
    let name = reader.finish_with(name)?;
    let now = warden.manager().sessions().clock().now();
    let expires_at =
        days.map(|days| now.saturating_add(i64::try_from(days * 86_400).unwrap_or(i64::MAX)));
    let user_id = found.user.id().to_string();
    let new = generate_key().map_err(|error| {
        tracing::error!(%error, "could not make an API key");
        ApiError::internal()
    })?;
    let stored = StoredApiKey::new(&new.id, &user_id, &name, &new.secret_hash, now)
        .scoped(scopes)
        .expiring(expires_at);
    keys.store.add(&stored).await?;
    warden
        .manager()
        .audit()
        .emit(|| SecurityEvent::ApiKeyCreated {
            user_id,
            key_id: stored.id.clone(),
            name: stored.name.clone(),
            scopes: stored.scopes.clone(),
        });
    let mut body = read(&stored);
    if let Value::Object(map) = &mut body {
        map.insert("key".into(), Value::from(new.key));
    }
    // The key is in this body only: never cached anywhere on the way.
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response())
}

/// `GET /users/me/api-keys`: the live keys, without secrets.
async fn list<U: UserModel>(
    State(warden): State<Warden<U>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let found = current(&warden, &Method::GET, &headers, None, false).await?;
    let listed = keys(&warden)?
        .store
        .all_of_user(&found.user.id().to_string())
        .await?;
    Ok(Json(Value::Array(listed.iter().map(read).collect())))
}

/// Revokes `key_id` of `user_id`: 204, or 404 when it is no live key of theirs.
async fn revoke_of<U: UserModel>(
    warden: &Warden<U>,
    user_id: String,
    key_id: &str,
    by_superuser: bool,
) -> Result<StatusCode, ApiError> {
    let now = warden.manager().sessions().clock().now();
    if !keys(warden)?.store.revoke(key_id, &user_id, now).await? {
        return Err(ApiError::not_found());
    }
    warden
        .manager()
        .audit()
        .emit(|| SecurityEvent::ApiKeyRevoked {
            user_id,
            key_id: key_id.to_owned(),
            by_superuser,
        });
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /users/me/api-keys/{key_id}`: 204; 404 for anyone else's, a revoked or
/// an unknown one.
async fn revoke<U: UserModel>(
    State(warden): State<Warden<U>>,
    Path(key_id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let found = current(&warden, &Method::DELETE, &headers, None, false).await?;
    let user_id = found.user.id().to_string();
    revoke_of(&warden, user_id, &key_id, false).await
}

/// The user `id` names, for a superuser's route: 404 for a malformed or unknown id,
/// as FastAPI Users' `/users/{id}` answers.
async fn user_of<U: UserModel>(warden: &Warden<U>, id: &str) -> Result<String, ApiError> {
    let id = U::Id::parse(id).ok_or_else(ApiError::not_found)?;
    let user = warden
        .manager()
        .get(&id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(user.id().to_string())
}

/// `GET /users/{id}/api-keys`: the user's live keys (superuser).
async fn user_list<U: UserModel>(
    State(warden): State<Warden<U>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    current(&warden, &Method::GET, &headers, None, true).await?;
    let user_id = user_of(&warden, &id).await?;
    let listed = keys(&warden)?.store.all_of_user(&user_id).await?;
    Ok(Json(Value::Array(listed.iter().map(read).collect())))
}

/// `DELETE /users/{id}/api-keys/{key_id}`: 204 (superuser).
async fn user_revoke<U: UserModel>(
    State(warden): State<Warden<U>>,
    Path((id, key_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    current(&warden, &Method::DELETE, &headers, None, true).await?;
    let user_id = user_of(&warden, &id).await?;
    revoke_of(&warden, user_id, &key_id, true).await
}
