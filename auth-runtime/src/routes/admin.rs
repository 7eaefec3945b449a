//! Warden's admin routes under `/users`, beside FastAPI Users' `/users/{id}`: the
//! user list, bans and (later) impersonation. They change what an operator can do
//! to any account, so each asks more than FastAPI Users' superuser routes: an
//! active superuser whose sign-in is at most [`ADMIN_FRESH_SECONDS`] old, and who
//! passed a second factor when two-factor authentication is configured (ASVS
//! 4.3.1: administrative interfaces use appropriate multi-factor
//! authentication). FastAPI Users' own `/users/{id}` routes keep their rule.

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde_json::{Value, json};

use super::body::{Fields, Reader};
use crate::authn::Access;
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::manager::ManagerError;
use crate::model::{UserId, UserModel};
use crate::store::{Ban, MAX_BAN_REASON, StoreError};
use crate::warden::Warden;

/// How recent an operator's sign-in must be for the admin routes, in seconds:
/// older, they answer RFC 9470's `insufficient_user_authentication` challenge and
/// the operator re-authenticates (`POST /auth/{name}/reauthenticate`).
///
/// ```
/// assert_eq!(warden_runtime::routes::ADMIN_FRESH_SECONDS, 900);
/// ```
pub const ADMIN_FRESH_SECONDS: u32 = 15 * 60;

/// The operator of an admin route: an active superuser, freshly signed in, with a
/// second factor when one is configured (and verified when the warden requires
/// it).
pub(crate) struct Operator<U> {
    pub(crate) user: U,
    /// The backend whose token the operator presented.
    pub(crate) backend: String,
    /// That token: an impersonation keeps it aside on a cookie transport.
    pub(crate) token: String,
}

impl<U: UserModel> FromRequestParts<Warden<U>> for Operator<U> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, warden: &Warden<U>) -> Result<Self, ApiError> {
        let access = Access {
            verified: warden.requires_verification(),
            fresh: Some(ADMIN_FRESH_SECONDS),
            mfa: warden.authenticator().second_factor().is_some(),
            ..Access::SUPERUSER
        };
        let found = warden
            .authenticator()
            .authorize(&parts.method, &parts.headers, None, access)
            .await?;
        Ok(Self {
            backend: found.backend.to_owned(),
            token: found.token.to_owned(),
            user: found.user,
        })
    }
}

/// The user the path's `{id}` names: 404 for a malformed id or nobody, as
/// FastAPI Users' `/users/{id}` answers.
async fn target<U: UserModel>(warden: &Warden<U>, id: &str) -> Result<U, ApiError> {
    let user = match U::Id::parse(id) {
        Some(id) => warden.manager().get(&id).await?,
        None => None,
    };
    user.ok_or_else(ApiError::not_found)
}

/// A ban as the admin routes answer it.
fn ban_read(ban: &Ban) -> Value {
    json!({
        "user_id": ban.user_id,
        "reason": ban.reason,
        "created_at": crate::clock::rfc3339(ban.created_at),
        "until": ban.until.and_then(crate::clock::rfc3339),
        "banned_by": ban.by,
    })
}

/// A manager's refusal of a ban, as the route answers it.
fn ban_error<U: UserModel>(warden: &Warden<U>, error: ManagerError) -> ApiError {
    match error {
        ManagerError::BanSuperuser => warden.error(ErrorCode::BanSuperuser),
        ManagerError::Store(StoreError::Unsupported(what)) => {
            tracing::error!(what, "the user store keeps no bans");
            ApiError::new(StatusCode::NOT_IMPLEMENTED, Value::from("Not Implemented"))
        }
        ManagerError::Store(error) => error.into(),
        other => {
            tracing::error!(error = %other, "ban failed");
            ApiError::internal()
        }
    }
}

/// `POST /users/{id}/ban` `{"reason"?, "until"?}` (JSON; `until` an RFC 3339
/// time in the future, absent or `null` for a ban until lifted): 200 with the ban.
/// Every session and token of the user ends, on every instance, and each way in
/// is refused at the sign-in step; a login with the right password says
/// `LOGIN_USER_BANNED` and the end. 400 `BAN_SUPERUSER` for a superuser (demote
/// first: no operator locks another out by a slip), 404 for no such user, 422 for
/// a malformed body or an `until` in the past.
pub(crate) async fn ban<U: UserModel>(
    State(warden): State<Warden<U>>,
    Operator { user: operator, .. }: Operator<U>,
    Path(id): Path<String>,
    fields: Fields,
) -> Result<Json<Value>, ApiError> {
    fields.require_json()?;
    let mut reader = Reader::new(&fields);
    let reason = reader.optional_string("reason", MAX_BAN_REASON);
    let until = reader.optional_string("until", 64);
    let now = warden.manager().sessions().clock().now();
    let until = match until.map(parse_time) {
        None => None,
        Some(Some(at)) if at > now => Some(at),
        Some(Some(_)) => {
            reader.push(FieldError::body(
                "until",
                "value_error",
                "Value error, the ban's end must be in the future",
            ));
            None
        }
        Some(None) => {
            reader.push(FieldError::body(
                "until",
                "datetime_from_date_parsing",
                "Input should be a valid datetime (RFC 3339, with its offset)",
            ));
            None
        }
    };
    reader.finish()?;
    let user = target(&warden, &id).await?;
    let by = operator.id().to_string();
    let ban = warden
        .manager()
        .ban(&user, reason, until, Some(&by))
        .await
        .map_err(|error| ban_error(&warden, error))?;
    Ok(Json(ban_read(&ban)))
}

/// `POST /users/{id}/unban`: lifts the user's ban (204 whether or not there was
/// one: the outcome is the same), 404 for no such user. Sessions ended by the
/// ban stay ended: the user signs in again.
pub(crate) async fn unban<U: UserModel>(
    State(warden): State<Warden<U>>,
    _operator: Operator<U>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = target(&warden, &id).await?;
    warden
        .manager()
        .unban(&user)
        .await
        .map_err(|error| ban_error(&warden, error))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /users/{id}/impersonate`: the operator acts as the user. The answer is
/// the backend's login response (the operator's backend), for a session of at
/// most an hour (`signin::IMPERSONATION_SECONDS`) without a refresh token, whose
/// JWTs carry RFC 8693's `act: {"sub": <operator id>}` (delegation: the subject
/// is the user, the actor the operator). The session is listed among the user's
/// sessions with `impersonated_by`, and the user's events get
/// `impersonation_started`. It never changes the user's credentials and never
/// passes `fresh` or `mfa` (403 `IMPERSONATION_FORBIDDEN`). On a cookie transport
/// the operator's own token waits in the `<cookie>_admin` cookie (`HttpOnly`) for
/// `POST /auth/{name}/stop-impersonating`. 400 `IMPERSONATE_SUPERUSER` for a
/// superuser (the operator included); a user the sign-in step refuses
/// (inactive, banned, ...) is refused as a login would be; 404 for nobody.
pub(crate) async fn impersonate<U: UserModel>(
    State(warden): State<Warden<U>>,
    operator: Operator<U>,
    Path(id): Path<String>,
    extensions: axum::http::Extensions,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    let user = target(&warden, &id).await?;
    if user.is_superuser() {
        return Err(warden.error(ErrorCode::ImpersonateSuperuser));
    }
    let request = crate::signin::Request::new(&warden, &extensions, &headers);
    let mut response = crate::signin::sign_in(
        &warden,
        &operator.backend,
        &user,
        crate::signin::Step::Impersonate(operator.user.id().to_string()),
        &request,
    )
    .await
    .map_err(|failure| failure.answer(|why| super::auth::login_refused(&warden, why, false)))?;
    let entry = warden
        .backend(&operator.backend)
        .ok_or_else(ApiError::internal)?;
    if let Some(cookie) = entry.transport.set_aside(Some(&operator.token)) {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// The admin list's default page size.
pub const LIST_DEFAULT_LIMIT: usize = 50;
/// The admin list's largest page.
pub const LIST_MAX_LIMIT: usize = 100;

/// A query parameter's problem, as FastAPI words it.
fn query_error(name: &str, kind: &'static str, msg: impl Into<String>) -> FieldError {
    FieldError {
        kind,
        loc: vec!["query".into(), name.into()],
        msg: msg.into(),
    }
}

/// A page's cursor: the last id's text, base64url, so clients treat it as opaque.
fn cursor_of<U: UserModel>(user: &U) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(user.id().to_string())
}

/// The id a cursor names; `None` for one this service did not make.
fn cursor_id<U: UserModel>(cursor: &str) -> Option<U::Id> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    U::Id::parse(std::str::from_utf8(&bytes).ok()?)
}

/// `GET /users?email=&is_active=&is_verified=&is_superuser=&role=&limit=&cursor=`:
/// one page of users (`UserRead`), in ascending id order, and the cursor of the
/// next page (`null` on the last): 200 `{"items": [...], "next_cursor"}`. `email`
/// is a case-insensitive prefix; `role` keeps the users holding that role; `limit` is 1 to [`LIST_MAX_LIMIT`] (default
/// [`LIST_DEFAULT_LIMIT`]). The cursor names where the page ended, not the
/// filters: send the same filters with it. 422 for a malformed parameter or
/// cursor; 501 for a store that cannot list.
pub(crate) async fn list<U: UserModel>(
    State(warden): State<Warden<U>>,
    _operator: Operator<U>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<Value>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|_| {
        ApiError::validation(vec![query_error(
            "query",
            "value_error",
            "The query string is malformed",
        )])
    })?;
    let mut errors = Vec::new();
    let mut filter = crate::store::UserFilter::default();
    let mut limit = LIST_DEFAULT_LIMIT;
    let mut after = None;
    for (name, value) in &pairs {
        let flag = || match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => None,
        };
        let bool_error = || {
            query_error(
                name,
                "bool_parsing",
                "Input should be a valid boolean, unable to interpret input",
            )
        };
        match name.as_str() {
            "email" if value.len() > crate::user::MAX_EMAIL_LEN => errors.push(query_error(
                name,
                "string_too_long",
                format!(
                    "String should have at most {} bytes",
                    crate::user::MAX_EMAIL_LEN
                ),
            )),
            "email" if !value.is_empty() => filter = filter.email_prefix(value),
            "is_active" => match flag() {
                Some(want) => filter = filter.active(want),
                None => errors.push(bool_error()),
            },
            "is_verified" => match flag() {
                Some(want) => filter = filter.verified(want),
                None => errors.push(bool_error()),
            },
            "is_superuser" => match flag() {
                Some(want) => filter = filter.superuser(want),
                None => errors.push(bool_error()),
            },
            // A role the model does not have is a mistake, not an empty page.
            "role" if U::ROLES.contains(&value.as_str()) => filter = filter.role(value),
            "role" => errors.push(query_error(name, "enum", crate::role::expected(U::ROLES))),
            "limit" => match value.parse::<usize>() {
                Ok(n) if (1..=LIST_MAX_LIMIT).contains(&n) => limit = n,
                _ => errors.push(query_error(
                    name,
                    "less_than_equal",
                    format!("Input should be an integer from 1 to {LIST_MAX_LIMIT}"),
                )),
            },
            "cursor" => match cursor_id::<U>(value) {
                Some(id) => after = Some(id),
                None => errors.push(query_error(
                    name,
                    "value_error",
                    "Value error, not a cursor of this list",
                )),
            },
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    // One more than asked: whether a next page exists, without a count.
    let mut users = warden
        .manager()
        .store()
        .list(&filter, after.as_ref(), limit + 1)
        .await
        .map_err(|error| match error {
            StoreError::Unsupported(what) => {
                tracing::error!(what, "the user store cannot list users");
                ApiError::new(StatusCode::NOT_IMPLEMENTED, Value::from("Not Implemented"))
            }
            other => other.into(),
        })?;
    let next = (users.len() > limit).then(|| {
        users.truncate(limit);
        users.last().map(cursor_of)
    });
    Ok(Json(json!({
        "items": users,
        "next_cursor": next.flatten(),
    })))
}

/// An RFC 3339 time as Unix seconds (fractions dropped).
fn parse_time(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_are_rfc3339_with_an_offset() {
        assert_eq!(parse_time("1970-01-01T00:01:40Z"), Some(100));
        assert_eq!(parse_time("1970-01-01T01:01:40+01:00"), Some(100));
        assert_eq!(parse_time("1970-01-01T00:01:40"), None);
        assert_eq!(parse_time("tomorrow"), None);
    }
}
