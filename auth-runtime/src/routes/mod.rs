//! FastAPI Users' routes, served by [`Warden::routes`](crate::Warden::routes).

mod auth;
mod body;
mod register;
mod reset;
mod users;
mod verify;

use std::marker::PhantomData;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{MethodRouter, get, post};
use serde_json::Value;

use crate::authn::{Access, authorize};
use crate::error::ApiError;
use crate::guard::Policy;
use crate::model::UserModel;
use crate::warden::Warden;

/// One route warden serves: the router mounts `handler`, the route table prints
/// `what`.
pub(crate) struct Route<U: UserModel> {
    pub(crate) method: &'static str,
    pub(crate) path: String,
    pub(crate) what: &'static str,
    pub(crate) handler: MethodRouter<Warden<U>>,
}

impl<U: UserModel> Route<U> {
    fn new(
        method: &'static str,
        path: impl Into<String>,
        what: &'static str,
        handler: MethodRouter<Warden<U>>,
    ) -> Self {
        Self {
            method,
            path: path.into(),
            what,
            handler,
        }
    }
}

/// The login, logout and refresh routes of one backend.
fn backend_routes<U: UserModel>(name: &str) -> Vec<Route<U>> {
    let name: Arc<str> = Arc::from(name);
    let (login, logout, refresh) = (Arc::clone(&name), Arc::clone(&name), Arc::clone(&name));
    vec![
        Route::new(
            "POST",
            format!("/auth/{name}/login"),
            "log in (form or JSON username/password)",
            post(
                move |State(warden): State<Warden<U>>, fields: body::Fields| {
                    auth::login(warden, Arc::clone(&login), fields)
                },
            ),
        ),
        Route::new(
            "POST",
            format!("/auth/{name}/logout"),
            "log out",
            post(move |State(warden): State<Warden<U>>, headers: HeaderMap| {
                auth::logout(warden, Arc::clone(&logout), headers)
            }),
        ),
        Route::new(
            "POST",
            format!("/auth/{name}/refresh"),
            "trade a valid token for a fresh one",
            post(move |State(warden): State<Warden<U>>, headers: HeaderMap| {
                auth::refresh(warden, Arc::clone(&refresh), headers)
            }),
        ),
    ]
}

/// Every route of `warden`, in FastAPI Users' order: auth per backend, register,
/// reset, verify, users.
pub(crate) fn list<U: UserModel>(warden: &Warden<U>) -> Vec<Route<U>> {
    let mut routes = Vec::new();
    for name in warden.backend_names() {
        routes.extend(backend_routes(name));
    }
    routes.push(Route::new(
        "POST",
        "/auth/register",
        "register a user",
        post(register::register::<U>),
    ));
    if warden.manager().tokens().has_reset() {
        routes.push(Route::new(
            "POST",
            "/auth/forgot-password",
            "ask for a reset token",
            post(reset::forgot_password::<U>),
        ));
        routes.push(Route::new(
            "POST",
            "/auth/reset-password",
            "set a new password with a reset token",
            post(reset::reset_password::<U>),
        ));
    }
    if warden.manager().tokens().has_verify() {
        routes.push(Route::new(
            "POST",
            "/auth/request-verify-token",
            "ask for a verify token",
            post(verify::request_verify_token::<U>),
        ));
        routes.push(Route::new(
            "POST",
            "/auth/verify",
            "verify the e-mail with a token",
            post(verify::verify::<U>),
        ));
    }
    routes.push(Route::new(
        "GET",
        "/users/me",
        "the current user",
        get(users::me::<U>),
    ));
    routes.push(Route::new(
        "PATCH",
        "/users/me",
        "update the current user",
        axum::routing::patch(users::patch_me::<U>),
    ));
    routes.push(Route::new(
        "GET",
        "/users/{id}",
        "a user (superuser)",
        get(users::get_user::<U>),
    ));
    routes.push(Route::new(
        "PATCH",
        "/users/{id}",
        "update a user (superuser)",
        axum::routing::patch(users::patch_user::<U>),
    ));
    routes.push(Route::new(
        "DELETE",
        "/users/{id}",
        "delete a user (superuser)",
        axum::routing::delete(users::delete_user::<U>),
    ));
    routes
}

fn mount<U: UserModel, S>(warden: Warden<U>, routes: Vec<Route<U>>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    routes
        .into_iter()
        .fold(Router::new(), |router, route| {
            router.route(&route.path, route.handler)
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                Value::from("Method Not Allowed"),
            )
        })
        .with_state(warden)
}

pub(crate) fn router<U: UserModel, S>(warden: Warden<U>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let routes = list(&warden);
    mount(warden, routes)
}

pub(crate) fn backend_router<U: UserModel, S>(warden: Warden<U>, name: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let routes = if warden.backend(name).is_some() {
        backend_routes(name)
    } else {
        Vec::new()
    };
    mount(warden, routes)
}

pub(crate) fn table<U: UserModel>(warden: &Warden<U>) -> Vec<(&'static str, String, &'static str)> {
    let mut table: Vec<_> = list(warden)
        .into_iter()
        .map(|route| (route.method, route.path, route.what))
        .collect();
    if warden.serves_docs() {
        table.push(("GET", "/openapi.json".to_owned(), "the OpenAPI document"));
        table.push(("GET", "/docs".to_owned(), "Swagger UI"));
    }
    table
}

/// The guard of the built-in routes: policy `P` through the one pipeline, plus
/// verification when the warden requires it (FastAPI Users' `requires_verification`
/// applies to its users router, not to the application's own guards).
pub(crate) struct RouteUser<U, P>(pub(crate) U, PhantomData<fn() -> P>);

impl<U: UserModel, P: Policy> FromRequestParts<Warden<U>> for RouteUser<U, P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, warden: &Warden<U>) -> Result<Self, ApiError> {
        let verified = Access {
            verified: warden.requires_verification(),
            ..Access::ANY
        };
        let found = authorize(warden, &parts.headers, None, P::ACCESS.and(verified)).await?;
        Ok(Self(found.user, PhantomData))
    }
}
