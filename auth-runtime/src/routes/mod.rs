//! FastAPI Users' routes, served by [`Warden::routes`](crate::Warden::routes).

mod auth;
mod body;
mod register;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;

use crate::error::ApiError;
use crate::warden::Warden;

pub(crate) fn router<S>(warden: Warden) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let mut router = Router::new()
        .route("/auth/register", post(register::register))
        .route("/users/me", get(users::me));
    for backend in warden.backends() {
        let name: Arc<str> = Arc::from(backend.name.as_str());
        let login_name = Arc::clone(&name);
        let logout_name = Arc::clone(&name);
        let refresh_name = Arc::clone(&name);
        router = router
            .route(
                &format!("/auth/{name}/login"),
                post(move |State(warden): State<Warden>, fields: body::Fields| {
                    auth::login(warden, Arc::clone(&login_name), fields)
                }),
            )
            .route(
                &format!("/auth/{name}/logout"),
                post(move |State(warden): State<Warden>, headers: HeaderMap| {
                    auth::logout(warden, Arc::clone(&logout_name), headers)
                }),
            )
            .route(
                &format!("/auth/{name}/refresh"),
                post(move |State(warden): State<Warden>, headers: HeaderMap| {
                    auth::refresh(warden, Arc::clone(&refresh_name), headers)
                }),
            );
    }
    router
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                Value::from("Method Not Allowed"),
            )
        })
        .with_state(warden)
}

pub(crate) fn table(warden: &Warden) -> Vec<(&'static str, String, &'static str)> {
    let mut table = vec![("POST", "/auth/register".to_owned(), "register a user")];
    for name in warden.backend_names() {
        table.push((
            "POST",
            format!("/auth/{name}/login"),
            "log in (form or JSON username/password)",
        ));
        table.push(("POST", format!("/auth/{name}/logout"), "log out"));
        table.push((
            "POST",
            format!("/auth/{name}/refresh"),
            "trade a valid token for a fresh one",
        ));
    }
    table.push(("GET", "/users/me".to_owned(), "the current user"));
    table
}
