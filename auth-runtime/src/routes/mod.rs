//! FastAPI Users' routes, served by [`Warden::routes`](crate::Warden::routes).

mod auth;
mod body;
mod register;
mod reset;
mod users;
mod verify;

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
        .route("/users/me", get(users::me).patch(users::patch_me))
        .route(
            "/users/{id}",
            get(users::get_user)
                .patch(users::patch_user)
                .delete(users::delete_user),
        );
    if warden.manager().tokens().has_reset() {
        router = router
            .route("/auth/forgot-password", post(reset::forgot_password))
            .route("/auth/reset-password", post(reset::reset_password));
    }
    if warden.manager().tokens().has_verify() {
        router = router
            .route(
                "/auth/request-verify-token",
                post(verify::request_verify_token),
            )
            .route("/auth/verify", post(verify::verify));
    }
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
    if warden.manager().tokens().has_reset() {
        table.push((
            "POST",
            "/auth/forgot-password".to_owned(),
            "ask for a reset token",
        ));
        table.push((
            "POST",
            "/auth/reset-password".to_owned(),
            "set a new password with a reset token",
        ));
    }
    if warden.manager().tokens().has_verify() {
        table.push((
            "POST",
            "/auth/request-verify-token".to_owned(),
            "ask for a verify token",
        ));
        table.push((
            "POST",
            "/auth/verify".to_owned(),
            "verify the e-mail with a token",
        ));
    }
    table.push(("GET", "/users/me".to_owned(), "the current user"));
    table.push(("PATCH", "/users/me".to_owned(), "update the current user"));
    table.push(("GET", "/users/{id}".to_owned(), "a user (superuser)"));
    table.push((
        "PATCH",
        "/users/{id}".to_owned(),
        "update a user (superuser)",
    ));
    table.push((
        "DELETE",
        "/users/{id}".to_owned(),
        "delete a user (superuser)",
    ));
    if warden.serves_docs() {
        table.push(("GET", "/openapi.json".to_owned(), "the OpenAPI document"));
        table.push(("GET", "/docs".to_owned(), "Swagger UI"));
    }
    table
}
