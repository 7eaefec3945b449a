//! FastAPI Users' routes, served by [`Warden::routes`](crate::Warden::routes).

mod auth;
mod body;
#[cfg(feature = "oauth")]
mod oauth;
mod register;
mod reset;
mod sessions;
mod users;
mod verify;

use std::marker::PhantomData;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{MethodRouter, delete, get, patch, post};
use serde_json::Value;

use crate::authn::Access;
use crate::error::{ApiError, ConfigError};
use crate::guard::Policy;
use crate::model::UserModel;
use crate::openapi::{self, DOCS_PATH, DOCUMENT_PATH, Op};
use crate::warden::Warden;

/// One route warden serves: the document's operation (its method, path and id),
/// the handler the router mounts, and what the route table prints.
pub(crate) struct Route<U: UserModel> {
    pub(crate) op: Op,
    pub(crate) what: &'static str,
    pub(crate) handler: MethodRouter<Warden<U>>,
}

/// The handler of an operation, by FastAPI Users' operation id, and what it does.
fn handler<U: UserModel>(id: &str) -> Option<(&'static str, MethodRouter<Warden<U>>)> {
    // `oauth:{route}.{backend}.{action}` and `oauth-associate:{route}.{action}`.
    #[cfg(feature = "oauth")]
    let oauth_route = id
        .strip_prefix("oauth:")
        .and_then(|rest| rest.rsplit_once('.'))
        .and_then(|(rest, action)| Some((rest.rsplit_once('.')?.0, action, false)))
        .or_else(|| {
            id.strip_prefix("oauth-associate:")
                .and_then(|rest| rest.rsplit_once('.'))
                .map(|(route, action)| (route, action, true))
        });
    #[cfg(feature = "oauth")]
    if let Some((route, action, associate)) = oauth_route {
        let route: Arc<str> = Arc::from(route);
        return match (action, associate) {
            ("authorize", false) => Some((
                "the provider's authorization URL (and the CSRF cookie)",
                oauth::authorize_handler(route, false),
            )),
            ("callback", false) => Some((
                "log in with the provider's code",
                oauth::callback_handler(route, false),
            )),
            ("authorize", true) => Some((
                "the provider's authorization URL, to link an account",
                oauth::authorize_handler(route, true),
            )),
            ("callback", true) => Some((
                "link the provider account to the current user",
                oauth::callback_handler(route, true),
            )),
            _ => None,
        };
    }
    if let Some((name, action)) = id
        .strip_prefix("auth:")
        .and_then(|rest| rest.rsplit_once('.'))
    {
        let name: Arc<str> = Arc::from(name);
        return match action {
            "login" => Some((
                "log in (form or JSON username/password)",
                post(
                    move |State(warden): State<Warden<U>>,
                          extensions: axum::http::Extensions,
                          headers: HeaderMap,
                          fields: body::Fields| {
                        auth::login(warden, Arc::clone(&name), extensions, headers, fields)
                    },
                ),
            )),
            "logout" => Some((
                "log out",
                post(move |State(warden): State<Warden<U>>, headers: HeaderMap| {
                    auth::logout(warden, Arc::clone(&name), headers)
                }),
            )),
            "reauthenticate" => Some((
                "sign the current session anew with the password (step-up)",
                post(
                    move |State(warden): State<Warden<U>>,
                          extensions: axum::http::Extensions,
                          headers: HeaderMap,
                          fields: body::Fields| {
                        auth::reauthenticate(warden, Arc::clone(&name), extensions, headers, fields)
                    },
                ),
            )),
            "refresh" => Some((
                "trade a refresh token, or a valid access token, for fresh tokens",
                post(
                    move |State(warden): State<Warden<U>>,
                          extensions: axum::http::Extensions,
                          headers: HeaderMap,
                          fields: body::Fields| {
                        auth::refresh(warden, Arc::clone(&name), extensions, headers, fields)
                    },
                ),
            )),
            _ => None,
        };
    }
    Some(match id {
        "register:register" => ("register a user", post(register::register::<U>)),
        "reset:forgot_password" => ("ask for a reset token", post(reset::forgot_password::<U>)),
        "reset:reset_password" => (
            "set a new password with a reset token",
            post(reset::reset_password::<U>),
        ),
        "verify:request-token" => (
            "ask for a verify token",
            post(verify::request_verify_token::<U>),
        ),
        "verify:verify" => ("verify the e-mail with a token", post(verify::verify::<U>)),
        "users:current_user" => ("the current user", get(users::me::<U>)),
        "users:patch_current_user" => ("update the current user", patch(users::patch_me::<U>)),
        "users:user" => ("a user (superuser)", get(users::get_user::<U>)),
        "users:patch_user" => ("update a user (superuser)", patch(users::patch_user::<U>)),
        "users:delete_user" => ("delete a user (superuser)", delete(users::delete_user::<U>)),
        "users:sessions" => ("the current user's sessions", get(sessions::list::<U>)),
        "users:delete_session" => (
            "end one of the current user's sessions",
            delete(sessions::end::<U>),
        ),
        "users:delete_sessions" => (
            "end every session of the current user (log out everywhere)",
            delete(sessions::end_all::<U>),
        ),
        "jwks:keys" => ("the public keys that verify tokens (JWKS)", get(jwks::<U>)),
        _ => return None,
    })
}

/// Every route of `warden`, in FastAPI Users' order (auth per backend, register,
/// reset, verify, users): the operations of its document, each with its handler. The
/// router, the route table and the OpenAPI document all come from this one list.
pub(crate) fn list<U: UserModel>(warden: &Warden<U>) -> Vec<Route<U>> {
    openapi::operations(&warden.api_spec("warden"))
        .into_iter()
        .filter_map(|op| {
            let Some((what, handler)) = handler::<U>(op.id()) else {
                // Every operation has a handler (a unit test holds it); an operation
                // without one is left out of the router and the document alike.
                tracing::error!(operation = op.id(), "no handler for this operation");
                return None;
            };
            Some(Route { op, what, handler })
        })
        .collect()
}

/// FastAPI's answer to a path no route serves: 404 `{"detail": "Not Found"}` (axum's
/// own is an empty body). Install it as the application's fallback; warden's routes
/// do not carry it, because axum refuses to merge two routers that both have one.
///
/// ```
/// use axum::Router;
/// let app: Router = Router::new().fallback(warden_runtime::routes::not_found);
/// ```
pub async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// Mounts `routes`; returns the router and their operations, for the document.
pub(crate) fn mount<U: UserModel, S>(
    warden: Warden<U>,
    routes: Vec<Route<U>>,
) -> (Router<S>, Vec<Op>)
where
    S: Clone + Send + Sync + 'static,
{
    let mut ops = Vec::with_capacity(routes.len());
    let mut router = Router::new();
    for route in routes {
        router = router.route(route.op.path(), route.handler);
        ops.push(route.op);
    }
    let router = router
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                Value::from("Method Not Allowed"),
            )
        })
        .with_state(warden);
    (router, ops)
}

/// Checks the application's [`route_path`](crate::WardenBuilder::route_path)s: each
/// names a route that exists, starts with `/`, keeps a `{id}` the route needs, and
/// no two routes end up at one method and path (axum would panic when mounting).
pub(crate) fn check_paths<U: UserModel>(warden: &Warden<U>) -> Result<(), ConfigError> {
    let routes = list(warden);
    let ids: Vec<&str> = routes.iter().map(|route| route.op.id()).collect();
    let spec = warden.api_spec("warden");
    for (id, path) in &spec.paths {
        let Some(route) = routes.iter().find(|route| route.op.id() == id) else {
            return Err(ConfigError::Mismatch(format!(
                "route_path(\"{id}\", ...): no route has this operation id; the routes are {}",
                ids.join(", ")
            )));
        };
        if !path.starts_with('/') {
            return Err(ConfigError::Mismatch(format!(
                "route_path(\"{id}\", \"{path}\"): a path starts with `/`: write \"/{path}\""
            )));
        }
        let docs = path == DOCUMENT_PATH
            || (cfg!(feature = "docs") && (path == DOCS_PATH || path.starts_with("/docs/")));
        if warden.serves_docs() && docs {
            return Err(ConfigError::Mismatch(format!(
                "route_path(\"{id}\", \"{path}\"): the API documentation is served there: choose another path, or turn the docs off with .docs(false)"
            )));
        }
        if route.op.needs_id() && !path.contains("{id}") {
            return Err(ConfigError::Mismatch(format!(
                "route_path(\"{id}\", \"{path}\"): this route reads the user id from the path: put `{{id}}` in it"
            )));
        }
    }
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for route in &routes {
        let key = (route.op.method(), route.op.path());
        if seen.contains(&key) {
            return Err(ConfigError::Mismatch(format!(
                "two routes are at {} {}: give route_path(\"{}\", ...) another path",
                key.0,
                key.1,
                route.op.id()
            )));
        }
        seen.push(key);
    }
    Ok(())
}

/// The routes of the backend named `name` only.
pub(crate) fn backend_list<U: UserModel>(warden: &Warden<U>, name: &str) -> Vec<Route<U>> {
    let prefix = format!("auth:{name}.");
    list(warden)
        .into_iter()
        .filter(|route| route.op.id().starts_with(&prefix))
        .collect()
}

pub(crate) fn table<U: UserModel>(warden: &Warden<U>) -> Vec<(&'static str, String, &'static str)> {
    let mut table: Vec<_> = list(warden)
        .into_iter()
        .map(|route| (route.op.method(), route.op.path().to_owned(), route.what))
        .collect();
    if warden.serves_docs() {
        table.push(("GET", DOCUMENT_PATH.to_owned(), "the OpenAPI document"));
        if cfg!(feature = "docs") {
            table.push(("GET", DOCS_PATH.to_owned(), "Swagger UI"));
        }
    }
    table
}

/// `GET /.well-known/jwks.json`: the backends' public keys. Clients may cache it
/// for five minutes: publish a new key at least that long before it signs.
async fn jwks<U: UserModel>(State(warden): State<Warden<U>>) -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("public, max-age=300"),
        )],
        axum::Json(warden.jwks()),
    )
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
        let found = warden
            .authenticator()
            .authorize(&parts.method, &parts.headers, None, P::ACCESS.and(verified))
            .await?;
        Ok(Self(found.user, PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openapi::{ApiSpec, BackendSpec};
    use crate::user::User;

    #[test]
    fn every_operation_has_a_handler() {
        let spec = ApiSpec {
            title: "t".into(),
            backends: vec![BackendSpec::bearer("jwt"), BackendSpec::cookie("c", "k")],
            register: true,
            users: true,
            reset_password: true,
            verify: true,
            fields: Vec::new(),
            integer_ids: false,
            email: true,
            paths: Default::default(),
            error_texts: Default::default(),
            jwks: true,
            current_password: false,
            oauth: Vec::new(),
        };
        let ops = openapi::operations(&spec);
        assert_eq!(ops.len(), 22);
        for op in ops {
            assert!(handler::<User>(op.id()).is_some(), "{}", op.id());
        }
    }
}
