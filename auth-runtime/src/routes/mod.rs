//! FastAPI Users' routes, served by [`Warden::routes`](crate::Warden::routes): their
//! handlers, and the inventory that lists them.

mod admin;
mod api_keys;
mod audit;
mod auth;
mod body;
mod inventory;
#[cfg(feature = "oauth")]
mod oauth;
#[cfg(feature = "passkeys")]
mod passkeys;
mod register;
mod reset;
mod sessions;
mod two_factor;
mod users;
mod verify;

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;

use crate::authn::Access;
use crate::error::ApiError;
use crate::guard::Policy;
use crate::model::UserModel;
use crate::warden::Warden;

pub use admin::{ADMIN_FRESH_SECONDS, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT};
pub(crate) use inventory::check_paths;

/// The handler of a passkey route, and what it does (the route table's words).
#[cfg(feature = "passkeys")]
fn passkeys_handler<U: UserModel>(
    operation: &crate::openapi::Operation,
) -> (&'static str, axum::routing::MethodRouter<Warden<U>>) {
    use crate::openapi::{Operation, PasskeyOp};
    use axum::routing::{delete, get, patch, post};
    let Operation::Passkey(op) = operation else {
        return ("not a passkey route", get(not_found));
    };
    match op {
        PasskeyOp::RegisterOptions => (
            "creation options for a new passkey (fresh sign-in)",
            post(passkeys::register_options::<U>),
        ),
        PasskeyOp::Add => ("add a passkey (fresh sign-in)", post(passkeys::add::<U>)),
        PasskeyOp::List => ("the current user's passkeys", get(passkeys::list::<U>)),
        PasskeyOp::Rename => (
            "rename one of the current user's passkeys",
            patch(passkeys::rename::<U>),
        ),
        PasskeyOp::Delete => (
            "delete one of the current user's passkeys (fresh sign-in)",
            delete(passkeys::delete::<U>),
        ),
        PasskeyOp::LoginOptions { backend } => {
            let backend = std::sync::Arc::clone(backend);
            (
                "request options for a passkey sign-in",
                post(
                    move |State(warden): State<Warden<U>>, fields: body::Fields| {
                        passkeys::login_options(warden, std::sync::Arc::clone(&backend), fields)
                    },
                ),
            )
        }
        PasskeyOp::Login { backend } => {
            let backend = std::sync::Arc::clone(backend);
            (
                "sign in with a passkey",
                post(
                    move |State(warden): State<Warden<U>>,
                          extensions: axum::http::Extensions,
                          headers: axum::http::HeaderMap,
                          fields: body::Fields| {
                        passkeys::login(
                            warden,
                            std::sync::Arc::clone(&backend),
                            extensions,
                            headers,
                            fields,
                        )
                    },
                ),
            )
        }
        PasskeyOp::SignupOptions => (
            "creation options for an account with a passkey alone",
            post(passkeys::signup_options::<U>),
        ),
        PasskeyOp::Signup => (
            "create an account with a passkey alone",
            post(passkeys::signup::<U>),
        ),
        PasskeyOp::Client => ("the passkeys browser module", get(passkeys::client_js)),
    }
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
/// With `ENROLLING`, it also serves a session the two-factor policy limits (a user
/// who must enrol and has not): `GET /users/me` does.
pub(crate) struct RouteUser<U, P, const ENROLLING: bool = false>(
    pub(crate) U,
    PhantomData<fn() -> P>,
);

impl<U: UserModel, P: Policy, const ENROLLING: bool> FromRequestParts<Warden<U>>
    for RouteUser<U, P, ENROLLING>
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, warden: &Warden<U>) -> Result<Self, ApiError> {
        let verified = Access {
            verified: warden.requires_verification(),
            ..Access::ANY
        };
        let found = warden
            .authenticator()
            .authorize_in(
                &parts.method,
                &parts.headers,
                None,
                P::ACCESS.and(verified),
                if ENROLLING {
                    crate::authn::Enrolling::Served
                } else {
                    crate::authn::Enrolling::Refused
                },
            )
            .await?;
        Ok(Self(found.user, PhantomData))
    }
}
