//! The audit trail's routes (FastAPI Users has none): `GET /users/me/security-events`,
//! the user's recent sign-ins and account changes, and a superuser's
//! `GET /users/{id}/security-events`. Each event says when, what, and from which
//! client; never a secret (events carry none), and not the event's other details
//! (e-mail addresses), which stay with the operator.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method};
use serde_json::{Value, json};

use super::RouteUser;
use super::sessions::{current, datetime};
use crate::error::{ApiError, FieldError};
use crate::guard::{Active, Superuser};
use crate::model::{UserId, UserModel};
use crate::store::StoredEvent;
use crate::warden::Warden;

/// How many events a page holds unless `limit` says otherwise, and at most.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 100;

/// A page: at most `limit` events, those older than the event `before` names.
struct Page {
    limit: u32,
    before: Option<i64>,
}

fn query_error(name: &str, kind: &'static str, msg: &str) -> ApiError {
    ApiError::validation(vec![FieldError {
        kind,
        loc: vec!["query".into(), name.into()],
        msg: msg.into(),
    }])
}

/// Reads `?limit=&before=`: a malformed or out-of-range value is FastAPI's 422 for a
/// query parameter; unknown parameters are ignored, as FastAPI does.
fn page(query: Option<&str>) -> Result<Page, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|_| query_error("query", "value_error", "Malformed query string"))?;
    let mut page = Page {
        limit: DEFAULT_LIMIT,
        before: None,
    };
    for (name, value) in pairs {
        let int = || {
            value.parse::<i64>().map_err(|_| {
                query_error(
                    &name,
                    "int_parsing",
                    "Input should be a valid integer, unable to parse string as an integer",
                )
            })
        };
        match name.as_str() {
            "limit" => {
                page.limit = u32::try_from(int()?)
                    .ok()
                    .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                    .ok_or_else(|| {
                        query_error(
                            "limit",
                            "value_error",
                            &format!("limit must be between 1 and {MAX_LIMIT}"),
                        )
                    })?;
            }
            "before" => page.before = Some(int()?),
            _ => {}
        }
    }
    Ok(page)
}

fn read(event: &StoredEvent) -> Value {
    json!({
        "id": event.id,
        "at": datetime(event.at),
        "kind": event.kind,
        "client_address": event.client_address,
        "user_agent": event.user_agent,
    })
}

/// The page of `user_id`'s events.
async fn events<U: UserModel>(
    warden: &Warden<U>,
    user_id: &str,
    query: Option<&str>,
) -> Result<Json<Value>, ApiError> {
    let page = page(query)?;
    // Served only with the trail on: the switch mounts these routes then alone.
    let kept = warden.audit_trail().ok_or_else(ApiError::not_found)?;
    let events = kept.of_user(user_id, page.limit, page.before).await?;
    Ok(Json(Value::Array(events.iter().map(read).collect())))
}

/// `GET /users/me/security-events?limit=&before=`: the current user's events,
/// newest first; `before` is the `id` of the last one seen, for the next page.
pub(crate) async fn mine<U: UserModel>(
    State(warden): State<Warden<U>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let found = current(&warden, &Method::GET, &headers).await?;
    let user_id = found.user.id().to_string();
    events(&warden, &user_id, query.as_deref()).await
}

/// `GET /users/{id}/security-events` (active superusers): a user's events, as
/// `/users/me/security-events` lists them. 404 for an unknown or malformed id.
pub(crate) async fn of_user<U: UserModel>(
    State(warden): State<Warden<U>>,
    RouteUser(_, _): RouteUser<U, (Active, Superuser)>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let user = match U::Id::parse(&id) {
        Some(id) => warden.manager().get(&id).await?,
        None => None,
    };
    let user = user.ok_or_else(ApiError::not_found)?;
    events(&warden, &user.id().to_string(), query.as_deref()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_reads_limit_and_before_and_refuses_the_malformed() {
        let ok = page(Some("limit=5&before=9&other=x")).unwrap();
        assert_eq!((ok.limit, ok.before), (5, Some(9)));
        assert_eq!(page(None).unwrap().limit, DEFAULT_LIMIT);
        for bad in ["limit=0", "limit=101", "limit=x", "before=1.5", "limit=-1"] {
            assert_eq!(
                page(Some(bad)).err().unwrap().status().as_u16(),
                422,
                "{bad}"
            );
        }
    }
}
