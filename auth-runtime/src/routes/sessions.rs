//! warden's sessions routes (FastAPI Users has none): a user lists their logins and
//! ends one, or all ("log out everywhere").

use crate::audit::SecurityEvent;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

use crate::authn::{Access, Authenticated};
use crate::error::ApiError;
use crate::model::UserModel;
use crate::session::{Admission, Session};
use crate::warden::Warden;

/// The current active user (verified too when the warden requires it).
pub(super) async fn current<'a, U: UserModel>(
    warden: &'a Warden<U>,
    method: &Method,
    headers: &'a HeaderMap,
) -> Result<Authenticated<'a, U>, ApiError> {
    // An API key is not a session and never ends one.
    let access = Access::ACTIVE.and(Access {
        verified: warden.requires_verification(),
        caller: crate::authn::Caller::SignedIn,
        ..Access::ANY
    });
    warden
        .authenticator()
        .authorize(method, headers, None, access)
        .await
}

/// A Unix time as RFC 3339 (UTC), as FastAPI renders datetimes.
pub(super) fn datetime(seconds: i64) -> Value {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .map_or(Value::Null, Value::from)
}

fn read(session: &Session, current: Option<&str>) -> Value {
    json!({
        "id": session.id,
        "backend": session.backend,
        "created_at": datetime(session.created_at),
        "last_used_at": datetime(session.last_used_at),
        "expires_at": session.expires_at.map_or(Value::Null, datetime),
        "user_agent": session.user_agent,
        "current": current == Some(session.id.as_str()),
        // A superuser acting as the user: they see it in their own list.
        "impersonated_by": session.actor,
    })
}

fn session_of<'a, U>(found: &'a Authenticated<'_, U>) -> Option<&'a str> {
    match &found.session {
        Admission::Session { id, .. } => Some(id),
        _ => None,
    }
}

/// `GET /users/me/sessions`: the user's live sessions, newest first; `current`
/// marks the one the request's token belongs to.
pub(crate) async fn list<U: UserModel>(
    State(warden): State<Warden<U>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let found = current(&warden, &Method::GET, &headers).await?;
    let sessions = warden
        .manager()
        .sessions()
        .list(&found.user.id().to_string())
        .await?;
    let current = session_of(&found);
    Ok(Json(Value::Array(
        sessions
            .iter()
            .map(|session| read(session, current))
            .collect(),
    )))
}

/// `DELETE /users/me/sessions/{session_id}`: ends one of the user's live sessions,
/// and every token of it, on every instance: 204; 404 for anyone else's, an ended
/// or an unknown one alike.
pub(crate) async fn end<U: UserModel>(
    State(warden): State<Warden<U>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let found = current(&warden, &Method::DELETE, &headers).await?;
    let sessions = warden.manager().sessions();
    let user_id = found.user.id().to_string();
    let owned = sessions.store().get(&id).await?.is_some_and(|session| {
        session.user_id == user_id && session.is_live(sessions.clock().now())
    });
    if !owned || !sessions.end(&id).await? {
        return Err(ApiError::not_found());
    }
    warden
        .manager()
        .audit()
        .emit(|| SecurityEvent::SessionEnded {
            user_id,
            session: id,
        });
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /users/me/sessions`: "log out everywhere": every session and token of
/// the user ends, this one included: 204.
pub(crate) async fn end_all<U: UserModel>(
    State(warden): State<Warden<U>>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let found = current(&warden, &Method::DELETE, &headers).await?;
    warden.manager().end_sessions(&found.user).await?;
    warden.after_recovery(&found.user).await?;
    warden
        .manager()
        .audit()
        .emit(|| SecurityEvent::SessionsEnded {
            user_id: found.user.id().to_string(),
            reason: "logout_everywhere",
        });
    Ok(StatusCode::NO_CONTENT)
}
