//! The route inventory: every built-in route as one entry, a typed [`Operation`]
//! with its path, its documentation ([`Op`]), its handler and what the route table
//! prints. The router ([`Warden::routes`]), the route table
//! ([`Warden::route_table`]), the OpenAPI document and
//! [`route_path`](crate::WardenBuilder::route_path) all read [`list`]; a router
//! switched off ([`Switch`](crate::openapi::Switch): `register_router(false)`,
//! `users_router(false)`, no reset or verify tokens, ...) leaves all of them at
//! once.
//!
//! Where a new route goes: managing one's own credentials under `/users/me/...`
//! (as the sessions do), sign-in ceremonies under `/auth/{name}/...` (`name` a
//! backend or an OAuth route). Existing routes keep FastAPI Users' paths, so that
//! FastAPI Users' clients and its operation ids keep working. A new route is a new
//! [`Operation`] variant: the compiler then asks for its method, path, name, switch
//! and handler, and the document for its description.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, patch, post};
use serde_json::Value;

use super::{admin, auth, body, jwks, register, reset, sessions, two_factor, users, verify};
use crate::error::{ApiError, ConfigError};
use crate::model::{UserId as _, UserModel};
use crate::openapi::{self, ApiSpec, BackendSpec, DOCS_PATH, DOCUMENT_PATH, Op, Operation};
use crate::warden::Warden;

/// One route warden serves: the documented operation (its typed [`Operation`],
/// method and path), the handler the router mounts, and what the route table
/// prints.
pub(crate) struct Route<U: UserModel> {
    pub(crate) op: Op,
    pub(crate) what: &'static str,
    pub(crate) handler: MethodRouter<Warden<U>>,
}

/// A sign-in route that reads the form or JSON body: login, refresh, reauthenticate.
fn form_route<U, F, Fut>(backend: &Arc<str>, handler: F) -> MethodRouter<Warden<U>>
where
    U: UserModel,
    F: Fn(Warden<U>, Arc<str>, Extensions, HeaderMap, body::Fields) -> Fut
        + Clone
        + Send
        + Sync
        + 'static,
    Fut: Future<Output = Result<Response, ApiError>> + Send + 'static,
{
    let backend = Arc::clone(backend);
    post(
        move |State(warden): State<Warden<U>>,
              extensions: Extensions,
              headers: HeaderMap,
              fields: body::Fields| {
            handler(warden, Arc::clone(&backend), extensions, headers, fields)
        },
    )
}

/// The handler of `operation`, and what it does (the route table's words).
fn handler<U: UserModel>(operation: &Operation) -> (&'static str, MethodRouter<Warden<U>>) {
    match operation {
        Operation::Login { backend } => (
            "log in (form or JSON username/password)",
            form_route(backend, auth::login::<U>),
        ),
        Operation::Logout { backend } => {
            let backend = Arc::clone(backend);
            (
                "log out",
                post(move |State(warden): State<Warden<U>>, headers: HeaderMap| {
                    auth::logout(warden, Arc::clone(&backend), headers)
                }),
            )
        }
        Operation::Refresh { backend } => (
            "trade a refresh token, or a valid access token, for fresh tokens",
            form_route(backend, auth::refresh::<U>),
        ),
        Operation::Reauthenticate { backend } => (
            "sign the current session anew with the password (step-up)",
            form_route(backend, auth::reauthenticate::<U>),
        ),
        #[cfg(feature = "oauth")]
        Operation::OAuthAuthorize { route, .. } => (
            "the provider's authorization URL (and the CSRF cookie)",
            super::oauth::authorize_handler(Arc::clone(route), false),
        ),
        #[cfg(feature = "oauth")]
        Operation::OAuthCallback { route, .. } => (
            "log in with the provider's code",
            super::oauth::callback_handler(Arc::clone(route), false),
        ),
        #[cfg(feature = "oauth")]
        Operation::AssociateAuthorize { route } => (
            "the provider's authorization URL, to link an account",
            super::oauth::authorize_handler(Arc::clone(route), true),
        ),
        #[cfg(feature = "oauth")]
        Operation::AssociateCallback { route } => (
            "link the provider account to the current user",
            super::oauth::callback_handler(Arc::clone(route), true),
        ),
        Operation::Register => ("register a user", post(register::register::<U>)),
        Operation::ForgotPassword => ("ask for a reset token", post(reset::forgot_password::<U>)),
        Operation::ResetPassword => (
            "set a new password with a reset token",
            post(reset::reset_password::<U>),
        ),
        Operation::RequestVerifyToken => (
            "ask for a verify token",
            post(verify::request_verify_token::<U>),
        ),
        Operation::Verify => ("verify the e-mail with a token", post(verify::verify::<U>)),
        Operation::CurrentUser => ("the current user", get(users::me::<U>)),
        Operation::PatchCurrentUser => ("update the current user", patch(users::patch_me::<U>)),
        Operation::Sessions => ("the current user's sessions", get(sessions::list::<U>)),
        Operation::DeleteSessions => (
            "end every session of the current user (log out everywhere)",
            delete(sessions::end_all::<U>),
        ),
        Operation::DeleteSession => (
            "end one of the current user's sessions",
            delete(sessions::end::<U>),
        ),
        #[cfg(feature = "oauth")]
        Operation::OAuthAccounts => (
            "the provider accounts linked to the current user",
            get(super::oauth::linked_accounts::<U>),
        ),
        #[cfg(feature = "oauth")]
        Operation::DeleteOAuthAccount => (
            "unlink one of the current user's provider accounts",
            delete(super::oauth::unlink_account::<U>),
        ),
        Operation::User => ("a user (superuser)", get(users::get_user::<U>)),
        Operation::PatchUser => ("update a user (superuser)", patch(users::patch_user::<U>)),
        Operation::DeleteUser => ("delete a user (superuser)", delete(users::delete_user::<U>)),
        Operation::ListUsers => (
            "list users: filters, e-mail prefix, pages (admin)",
            get(admin::list::<U>),
        ),
        Operation::BanUser => (
            "ban a user until a time or until lifted; ends their sessions (admin)",
            post(admin::ban::<U>),
        ),
        Operation::UnbanUser => ("lift a user's ban (admin)", post(admin::unban::<U>)),
        Operation::Impersonate => (
            "act as a user for at most an hour (admin; tokens carry act)",
            post(admin::impersonate::<U>),
        ),
        Operation::StopImpersonating { backend } => {
            let backend = Arc::clone(backend);
            (
                "end an impersonation; a cookie gets the admin's own token back",
                post(move |State(warden): State<Warden<U>>, headers: HeaderMap| {
                    auth::stop_impersonating(warden, Arc::clone(&backend), headers)
                }),
            )
        }
        Operation::Jwks => ("the public keys that verify tokens (JWKS)", get(jwks::<U>)),
        Operation::LoginSecondFactor { backend } => (
            "finish a sign-in with a TOTP or recovery code (the mfa_token's second step)",
            form_route(backend, two_factor::second_step::<U>),
        ),
        Operation::TwoFactor => (
            "where the current user's second factor stands",
            get(two_factor::status::<U>),
        ),
        Operation::EnrolTotp => (
            "a new TOTP secret for the current user, pending confirmation",
            post(two_factor::enrol::<U>),
        ),
        Operation::ConfirmTotp => (
            "confirm the TOTP secret with a code: 2FA on, recovery codes shown once",
            post(two_factor::confirm::<U>),
        ),
        Operation::RecoveryCodes => (
            "replace the current user's recovery codes",
            post(two_factor::regenerate::<U>),
        ),
        Operation::DisableTwoFactor => (
            "turn the current user's second factor off",
            post(two_factor::disable::<U>),
        ),
        Operation::ForgetDevices => (
            "forget the current user's remembered devices",
            post(two_factor::forget_devices::<U>),
        ),
        Operation::ResetTwoFactor => (
            "turn a user's second factor off and end their sessions (superuser)",
            delete(two_factor::reset_user::<U>),
        ),
        Operation::SecurityEvents => (
            "the current user's recent sign-ins and account changes (audit trail)",
            get(super::audit::mine::<U>),
        ),
        Operation::UserSecurityEvents => (
            "a user's recent sign-ins and account changes (superuser)",
            get(super::audit::of_user::<U>),
        ),
        Operation::ApiKey(op) => super::api_keys::handler::<U>(*op),
        #[cfg(feature = "passkeys")]
        other => super::passkeys_handler::<U>(other),
    }
}

/// Every route of `warden`, in FastAPI Users' order (auth per backend, OAuth,
/// register, reset, verify, users, JWKS): the operations of its document, each with
/// its handler.
pub(crate) fn list<U: UserModel>(warden: &Warden<U>) -> Vec<Route<U>> {
    entries(&warden.api_spec("warden"))
}

fn entries<U: UserModel>(spec: &ApiSpec) -> Vec<Route<U>> {
    openapi::operations(spec)
        .into_iter()
        .map(|op| {
            let (what, handler) = handler::<U>(op.operation());
            Route { op, what, handler }
        })
        .collect()
}

/// Mounts `routes`; returns the router and their operations, for the document.
fn mount<U: UserModel, S>(warden: Warden<U>, routes: Vec<Route<U>>) -> (Router<S>, Vec<Op>)
where
    S: Clone + Send + Sync + 'static,
{
    let mut ops = Vec::with_capacity(routes.len());
    let mut router = Router::new();
    for route in routes {
        router = router.route(route.op.path(), route.handler);
        ops.push(route.op);
    }
    let mut router = router.method_not_allowed_fallback(|| async {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            Value::from("Method Not Allowed"),
        )
    });
    // Security events the user manager emits (a password changed, roles given)
    // name no client: the request's is kept beside them for the sinks, the audit
    // trail's rows among them. Only where a sink listens.
    if warden.manager().audit().listens() {
        let listening = warden.clone();
        router = router.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let client = crate::audit::Client::of_request(
                    listening.client_address(request.extensions(), request.headers()),
                    request.headers(),
                );
                crate::audit::serving(client, next.run(request))
            },
        ));
    }
    (router.with_state(warden), ops)
}

/// Checks the application's [`route_path`](crate::WardenBuilder::route_path)s, at
/// `build()`: each route name resolves to a served [`Operation`], the path starts
/// with `/`, keeps a `{id}` the route needs, and no two routes end up at one method
/// and path (axum would panic when mounting).
pub(crate) fn check_paths<U: UserModel>(warden: &Warden<U>) -> Result<(), ConfigError> {
    let spec = warden.api_spec("warden");
    check_spec(&spec, warden.serves_docs())
}

fn check_spec(spec: &ApiSpec, serves_docs: bool) -> Result<(), ConfigError> {
    let ops = openapi::operations(spec);
    let names: Vec<String> = ops.iter().map(|op| op.operation().to_string()).collect();
    for (name, path) in &spec.paths {
        let Some(at) = names.iter().position(|known| known == name) else {
            return Err(ConfigError::Mismatch(format!(
                "route_path(\"{name}\", ...): no route has this operation id; the routes are {}",
                names.join(", ")
            )));
        };
        if !path.starts_with('/') {
            return Err(ConfigError::Mismatch(format!(
                "route_path(\"{name}\", \"{path}\"): a path starts with `/`: write \"/{path}\""
            )));
        }
        let docs = path == DOCUMENT_PATH
            || (cfg!(feature = "docs") && (path == DOCS_PATH || path.starts_with("/docs/")));
        if serves_docs && docs {
            return Err(ConfigError::Mismatch(format!(
                "route_path(\"{name}\", \"{path}\"): the API documentation is served there: choose another path, or turn the docs off with .docs(false)"
            )));
        }
        if ops[at].operation().needs_id() && !path.contains("{id}") {
            return Err(ConfigError::Mismatch(format!(
                "route_path(\"{name}\", \"{path}\"): this route reads the user id from the path: put `{{id}}` in it"
            )));
        }
    }
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (op, name) in ops.iter().zip(&names) {
        let key = (op.method(), op.path());
        if seen.contains(&key) {
            return Err(ConfigError::Mismatch(format!(
                "two routes are at {} {}: give route_path(\"{name}\", ...) another path",
                key.0, key.1,
            )));
        }
        seen.push(key);
    }
    Ok(())
}

/// The route table of `routes`, then the document and Swagger UI when served.
fn table<U: UserModel>(routes: &[Route<U>], serves_docs: bool) -> Vec<(String, String, String)> {
    let mut table: Vec<_> = routes
        .iter()
        .map(|route| {
            (
                route.op.method().to_owned(),
                route.op.path().to_owned(),
                route.what.to_owned(),
            )
        })
        .collect();
    if serves_docs {
        table.push((
            "GET".into(),
            DOCUMENT_PATH.into(),
            "the OpenAPI document".into(),
        ));
        if cfg!(feature = "docs") {
            table.push(("GET".into(), DOCS_PATH.into(), "Swagger UI".into()));
        }
    }
    table
}

impl<U: UserModel> Warden<U> {
    /// FastAPI Users' routes for every backend: `POST /auth/register`,
    /// `POST /auth/{name}/login | logout | refresh`, `GET /users/me`. Merge them into
    /// your router.
    pub fn routes<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let (routes, ops) = mount(self.clone(), list(self));
        if self.serves_docs() {
            routes.merge(openapi::router_of(
                &self.api_spec("warden"),
                ops,
                self.inner.app_api.as_ref(),
            ))
        } else {
            routes
        }
    }

    /// Only the login, logout and refresh routes of the backend named `name` (empty
    /// for an unknown name): for mounting one backend alone.
    pub fn backend_routes<S>(&self, name: &str) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let routes = list(self)
            .into_iter()
            .filter(|route| route.op.operation().backend() == Some(name))
            .collect();
        mount(self.clone(), routes).0
    }

    /// Whether [`routes`](Self::routes) serves `/openapi.json` and `/docs`.
    pub fn serves_docs(&self) -> bool {
        self.inner.docs
    }

    /// The description of the routes this warden serves, for
    /// [`openapi::document`](crate::openapi::document).
    pub fn api_spec(&self, title: impl Into<String>) -> ApiSpec {
        let tokens = self.manager().tokens();
        ApiSpec {
            title: title.into(),
            backends: self
                .backends()
                .iter()
                .map(|b| {
                    let spec = BackendSpec::new(&b.name, b.transport.openapi());
                    if b.strategy.is_api_key() {
                        spec.api_key()
                    } else {
                        spec
                    }
                })
                .collect(),
            register: self.inner.routers.register,
            users: self.inner.routers.users,
            reset_password: tokens.has_reset(),
            verify: tokens.has_verify(),
            fields: U::FIELDS.to_vec(),
            integer_ids: U::Id::KIND == crate::model::IdKind::Integer,
            email: U::HAS_EMAIL,
            paths: self.inner.routers.paths.clone(),
            error_texts: self.inner.routers.error_texts.clone(),
            jwks: !self.jwks().keys.is_empty(),
            current_password: self.requires_current_password(),
            #[cfg(feature = "oauth")]
            oauth: self
                .inner
                .oauth
                .iter()
                .map(|route| (route.route.clone(), route.backend.clone()))
                .collect(),
            #[cfg(not(feature = "oauth"))]
            oauth: Vec::new(),
            two_factor: self.authenticator().second_factor().is_some(),
            audit_trail: self.audit_trail().is_some(),
            #[cfg(feature = "passkeys")]
            passkeys: self.inner.passkeys.is_some(),
            #[cfg(feature = "passkeys")]
            passkey_signup: self
                .inner
                .passkeys
                .as_ref()
                .is_some_and(|enabled| enabled.service.signup),
            #[cfg(not(feature = "passkeys"))]
            passkeys: false,
            #[cfg(not(feature = "passkeys"))]
            passkey_signup: false,
            scopes: self.inner.api_keys.as_ref().map_or_else(Vec::new, |keys| {
                keys.scope_variants
                    .iter()
                    .copied()
                    .zip(keys.scopes.iter().copied())
                    .collect()
            }),
            roles: U::ROLE_VARIANTS
                .iter()
                .copied()
                .zip(U::ROLES.iter().copied())
                .collect(),
        }
    }

    /// Every route [`routes`](Self::routes) serves, then the application's own
    /// documented ones ([`WardenBuilder::openapi`](crate::WardenBuilder::openapi)):
    /// `(method, path, what it does)`.
    pub fn route_table(&self) -> Vec<(String, String, String)> {
        let mut table = table(&list(self), self.serves_docs());
        if let Some(api) = &self.inner.app_api {
            table.extend(openapi::app_routes(api));
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::user::User;

    /// Every router on: two backends, JWKS and, with the feature, both OAuth routers.
    fn spec() -> ApiSpec {
        ApiSpec {
            jwks: true,
            oauth: vec![
                ("google".into(), Some("jwt".into())),
                ("google".into(), None),
            ],
            ..ApiSpec::new(
                "t",
                vec![BackendSpec::bearer("jwt"), BackendSpec::cookie("c", "k")],
            )
        }
    }

    /// `(METHOD, path)` of each of the document's operations, and their ids.
    fn documented(spec: &ApiSpec) -> (BTreeSet<(String, String)>, Vec<String>) {
        let doc = serde_json::to_value(openapi::document(spec)).unwrap_or_default();
        let mut routes = BTreeSet::new();
        let mut ids = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                routes.insert((method.to_ascii_uppercase(), path.clone()));
                ids.extend(op["operationId"].as_str().map(str::to_owned));
            }
        }
        (routes, ids)
    }

    /// The router's, the table's and the document's routes are one set.
    fn assert_one_list(spec: &ApiSpec) -> BTreeSet<(String, String)> {
        let routes = entries::<User>(spec);
        let served: BTreeSet<(String, String)> = routes
            .iter()
            .map(|route| (route.op.method().to_owned(), route.op.path().to_owned()))
            .collect();
        assert_eq!(
            served.len(),
            routes.len(),
            "two routes share a method and path"
        );
        let table: BTreeSet<(String, String)> = table(&routes, false)
            .into_iter()
            .map(|(method, path, _)| (method, path))
            .collect();
        assert_eq!(table, served);
        let (documented, ids) = documented(spec);
        assert_eq!(documented, served);
        let unique: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), routes.len(), "operation ids: {ids:?}");
        // What `mount` does, without a warden for the state: axum panics on a
        // route mounted twice.
        let _router = routes
            .into_iter()
            .fold(Router::<Warden<User>>::new(), |router, route| {
                router.route(route.op.path(), route.handler)
            });
        served
    }

    #[test]
    fn every_operation_has_one_route_handler_and_document_entry() {
        let routes = entries::<User>(&spec());
        // Two OAuth routers (4 routes) and the linked-accounts routes (2).
        let oauth = if cfg!(feature = "oauth") { 4 + 2 } else { 0 };
        // The users router: FastAPI Users' 5, the sessions' 3, the admin 4 and
        // each backend's stop-impersonating.
        assert_eq!(routes.len(), 2 * 4 + oauth + 1 + 2 + 2 + 8 + 4 + 2 + 1);
        let names: BTreeSet<String> = routes
            .iter()
            .map(|route| route.op.operation().to_string())
            .collect();
        assert_eq!(names.len(), routes.len());
        assert!(routes.iter().all(|route| !route.what.is_empty()));
        assert_one_list(&spec());
    }

    #[cfg(feature = "passkeys")]
    #[test]
    fn passkey_routes_are_in_the_one_list_when_on() {
        let off = assert_one_list(&spec());
        let on = assert_one_list(&ApiSpec {
            passkeys: true,
            passkey_signup: true,
            ..spec()
        });
        // Five to manage, the client, sign-up's two, and two per backend.
        assert_eq!(on.len(), off.len() + 5 + 1 + 2 + 2 * 2);
        assert!(on.contains(&("POST".into(), "/auth/c/passkey".into())));
        let without_signup = assert_one_list(&ApiSpec {
            passkeys: true,
            ..spec()
        });
        assert_eq!(without_signup.len(), on.len() - 2);
    }

    #[test]
    fn a_switch_removes_its_routes_from_router_table_and_document_alike() {
        use crate::openapi::Switch;
        let all = assert_one_list(&spec());
        /// Turns one switch off.
        type Off = fn(&mut ApiSpec);
        let cases: [(Switch, Off); 5] = [
            (Switch::Register, |spec| spec.register = false),
            (Switch::Users, |spec| spec.users = false),
            (Switch::ResetPassword, |spec| spec.reset_password = false),
            (Switch::Verify, |spec| spec.verify = false),
            (Switch::Jwks, |spec| spec.jwks = false),
        ];
        for (switch, off) in cases {
            let mut spec = spec();
            off(&mut spec);
            let left = assert_one_list(&spec);
            let removed: BTreeSet<(String, String)> = entries::<User>(&self::spec())
                .iter()
                .filter(|route| route.op.operation().switch() == switch)
                .map(|route| (route.op.method().to_owned(), route.op.path().to_owned()))
                .collect();
            assert!(!removed.is_empty(), "{switch:?}");
            assert_eq!(
                left,
                all.difference(&removed).cloned().collect(),
                "{switch:?}"
            );
        }
    }

    #[test]
    fn route_path_names_resolve_to_served_operations_at_build() {
        let mut renamed = spec();
        renamed
            .paths
            .insert("auth:jwt.login".into(), "/login".into());
        renamed
            .paths
            .insert("users:user".into(), "/members/{id}".into());
        assert!(check_spec(&renamed, true).is_ok());
        let served = assert_one_list(&renamed);
        assert!(served.contains(&("POST".into(), "/login".into())));
        assert!(served.contains(&("GET".into(), "/members/{id}".into())));
        assert!(!served.contains(&("POST".into(), "/auth/jwt/login".into())));

        let unknown = |name: &str, spec: &mut ApiSpec| {
            spec.paths.insert(name.into(), "/x".into());
            let error = check_spec(spec, true).err().map(|e| e.to_string());
            assert!(
                error
                    .as_deref()
                    .is_some_and(|e| e.contains("no route has this operation id")),
                "{name}: {error:?}"
            );
        };
        unknown("auth:jwt.logn", &mut spec());
        unknown("auth:nobody.login", &mut spec());
        // A route whose router is off is no route.
        unknown(
            "register:register",
            &mut ApiSpec {
                register: false,
                ..spec()
            },
        );
    }

    #[test]
    fn backend_routes_are_the_backends_sign_in_routes() {
        let backend: Vec<String> = entries::<User>(&spec())
            .iter()
            .filter(|route| route.op.operation().backend() == Some("c"))
            .map(|route| route.op.operation().to_string())
            .collect();
        assert_eq!(
            backend,
            [
                "auth:c.login",
                "auth:c.logout",
                "auth:c.refresh",
                "auth:c.reauthenticate",
                "auth:c.stop_impersonating"
            ]
        );
    }
}
