//! The OpenAPI 3.1 document of warden's routes, as FastAPI would generate it for
//! FastAPI Users (same paths, operation ids, tags, schemas, error codes and security
//! schemes), and a Swagger UI to try them, served without any network access.
//!
//! [`ApiSpec`] says which routes exist; [`document`] describes them; [`router`] serves
//! `GET /openapi.json` and `GET /docs`:
//!
//! ```
//! use warden_runtime::openapi::{ApiSpec, BackendSpec, router};
//!
//! // FastAPI Users' routers for one bearer backend, without reset and verify.
//! let spec = ApiSpec {
//!     reset_password: false,
//!     verify: false,
//!     ..ApiSpec::new("warden", vec![BackendSpec::bearer("jwt")])
//! };
//! let docs: axum::Router<()> = router(&spec);
//! ```

mod app;
mod docs;
mod operation;
mod paths;
mod schemas;

use utoipa::openapi::info::InfoBuilder;
use utoipa::openapi::schema::ComponentsBuilder;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Flow, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{OpenApi, OpenApiBuilder};

pub(crate) use app::app_routes;
pub(crate) use docs::{DOCS_PATH, DOCUMENT_PATH, router_of};
pub use docs::{router, router_with};
pub(crate) use operation::ApiKeyOp;
#[cfg(feature = "passkeys")]
pub(crate) use operation::PasskeyOp;
pub(crate) use operation::{Operation, Switch};
pub(crate) use paths::Op;

use std::collections::BTreeMap;

use crate::error::ErrorTexts;
use crate::model::Field;
pub use crate::transport::TransportDoc;

/// Which routes an application serves: what [`document`] describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSpec {
    /// The document's title (`info.title`), also the `/docs` page's title.
    pub title: String,
    /// The authentication backends, in order: `POST /auth/{name}/login | logout |
    /// refresh` each, and one security scheme each.
    pub backends: Vec<BackendSpec>,
    /// `POST /auth/register`.
    pub register: bool,
    /// `GET | PATCH /users/me`, `GET | PATCH | DELETE /users/{id}`.
    pub users: bool,
    /// `POST /auth/forgot-password`, `POST /auth/reset-password`.
    pub reset_password: bool,
    /// `POST /auth/request-verify-token`, `POST /auth/verify`.
    pub verify: bool,
    /// The user model's extra fields, shown in `UserRead`, `UserCreate` and
    /// `UserUpdate` as their flags say.
    pub fields: Vec<Field>,
    /// Whether user ids are integers (else UUIDs).
    pub integer_ids: bool,
    /// Whether users have FastAPI Users' `email` field.
    pub email: bool,
    /// Routes served at the application's own paths: route name (FastAPI Users',
    /// e.g. `auth:jwt.login`) to path (`/login`). The others keep FastAPI Users'.
    pub paths: BTreeMap<String, String>,
    /// What the routes answer for each error code.
    pub error_texts: ErrorTexts,
    /// `GET /.well-known/jwks.json`: a backend signs with a public-key algorithm.
    pub jwks: bool,
    /// `UserUpdate` takes `current_password`, required to change the password, the
    /// e-mail or the login.
    pub current_password: bool,
    /// The OAuth routers: `(route, Some(backend))` for a login router at
    /// `GET /auth/{route}/authorize | callback`, `(route, None)` for an associate
    /// router at `GET /auth/associate/{route}/authorize | callback`. Documented with
    /// the cargo feature `oauth` only, which serves them.
    pub oauth: Vec<(String, Option<String>)>,
    /// A second factor is configured: `POST /auth/{name}/login/2fa`, the
    /// `/users/me/2fa/...` routes and `DELETE /users/{id}/2fa`, and the login's 403
    /// `LOGIN_2FA_REQUIRED`.
    pub two_factor: bool,
    /// The audit trail: `GET /users/me/security-events` and
    /// `GET /users/{id}/security-events`.
    pub audit_trail: bool,
    /// Passkeys: `/users/me/passkeys...`, `POST /auth/{name}/passkey[/options]`
    /// per backend, `GET /auth/passkeys/client.js`; with `passkey_signup`, also
    /// `POST /auth/register/passkey[/options]`. Documented with the cargo feature
    /// `passkeys` only, which serves them.
    pub passkeys: bool,
    /// `POST /auth/register/passkey[/options]`.
    pub passkey_signup: bool,
    /// The application's scopes, `(variant, name)`: `#[protected(scope = ...)]`
    /// operations name the variant, the document shows the name.
    pub scopes: Vec<(&'static str, &'static str)>,
    /// The user model's roles, `(variant, name)`, likewise for `role = ...`.
    pub roles: Vec<(&'static str, &'static str)>,
}

/// One authentication backend as the document shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendSpec {
    /// The backend's name, the URL segment of `/auth/{name}/login`.
    pub name: String,
    /// Where its token travels.
    pub transport: TransportDoc,
    /// Its tokens are API keys (`strategy = "api_key"`): no login, logout or
    /// refresh route, and the `/users/me/api-keys` routes are served.
    pub api_key: bool,
}

impl BackendSpec {
    /// A backend whose transport describes itself as `transport`.
    pub fn new(name: impl Into<String>, transport: TransportDoc) -> Self {
        Self {
            name: name.into(),
            transport,
            api_key: false,
        }
    }

    /// The same backend, of API keys.
    #[must_use]
    pub fn api_key(mut self) -> Self {
        self.api_key = true;
        self
    }

    /// A backend whose token travels as `Authorization: Bearer`.
    pub fn bearer(name: impl Into<String>) -> Self {
        Self::new(name, TransportDoc::Bearer)
    }

    /// A backend whose token travels in the cookie `cookie`.
    pub fn cookie(name: impl Into<String>, cookie: impl Into<String>) -> Self {
        Self::new(name, TransportDoc::Cookie(cookie.into()))
    }

    /// The cookie's name, for a cookie transport.
    pub(crate) fn cookie_name(&self) -> Option<&str> {
        match &self.transport {
            TransportDoc::Cookie(name) => Some(name),
            _ => None,
        }
    }
}

impl ApiSpec {
    /// FastAPI Users' full set for `backends`: every router on (register, users,
    /// reset, verify), FastAPI Users' texts and paths, UUID ids with an e-mail, no
    /// extra fields, no JWKS and no OAuth. Change what differs with struct update
    /// syntax.
    ///
    /// ```
    /// use warden_runtime::openapi::{document, ApiSpec, BackendSpec};
    /// let spec = ApiSpec { register: false, ..ApiSpec::new("app", vec![BackendSpec::bearer("jwt")]) };
    /// let doc = serde_json::to_value(document(&spec)).unwrap();
    /// assert!(doc["paths"]["/auth/jwt/login"].is_object());
    /// assert!(doc["paths"]["/auth/register"].is_null());
    /// ```
    pub fn new(title: impl Into<String>, backends: Vec<BackendSpec>) -> Self {
        Self {
            title: title.into(),
            backends,
            register: true,
            users: true,
            reset_password: true,
            verify: true,
            fields: Vec::new(),
            integer_ids: false,
            email: true,
            paths: BTreeMap::new(),
            error_texts: ErrorTexts::default(),
            jwks: false,
            current_password: false,
            oauth: Vec::new(),
            two_factor: false,
            audit_trail: false,
            passkeys: false,
            passkey_signup: false,
            scopes: Vec::new(),
            roles: Vec::new(),
        }
    }

    /// Whether the routes `switch` governs are served.
    pub(crate) fn serves(&self, switch: Switch) -> bool {
        match switch {
            Switch::Backend => true,
            #[cfg(feature = "oauth")]
            Switch::OAuth => true,
            Switch::Register => self.register,
            Switch::ResetPassword => self.reset_password,
            Switch::Verify => self.verify,
            Switch::Users => self.users,
            Switch::Jwks => self.jwks,
            Switch::TwoFactor => self.two_factor,
            Switch::AuditTrail => self.audit_trail,
            Switch::ApiKeys => self.backends.iter().any(|backend| backend.api_key),
            #[cfg(feature = "passkeys")]
            Switch::Passkeys => self.passkeys,
            #[cfg(feature = "passkeys")]
            Switch::PasskeySignup => self.passkeys && self.passkey_signup,
        }
    }
}

fn security_scheme(spec: &ApiSpec, backend: &BackendSpec) -> SecurityScheme {
    match &backend.transport {
        TransportDoc::Cookie(cookie) => {
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(cookie)))
        }
        TransportDoc::Header(header) => {
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new(header)))
        }
        _ if backend.api_key => SecurityScheme::Http(
            utoipa::openapi::security::HttpBuilder::new()
                .scheme(utoipa::openapi::security::HttpAuthScheme::Bearer)
                .description(Some(
                    "An API key (`wdn_...`) from `POST /users/me/api-keys`, as \
                     `Authorization: Bearer`.",
                ))
                .build(),
        ),
        _ => SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(
            paths::token_url(spec, backend),
            Scopes::new(),
        ))])),
    }
}

/// The OpenAPI 3.1 document of the routes `spec` lists.
///
/// Security schemes, one per backend: a bearer backend is an OAuth2 password flow
/// named `OAuth2PasswordBearer` whose `tokenUrl` is its login route (relative,
/// `auth/{name}/login`, as FastAPI Users writes it), a cookie backend an API key in
/// that cookie named `APIKeyCookie`; with several backends of one kind, each name gets
/// the suffix `_{backend}`. Routes that need a user accept any backend's scheme;
/// logout and refresh only their own backend's.
pub fn document(spec: &ApiSpec) -> OpenApi {
    document_of(spec, operations(spec))
}

/// The operations `spec` describes, each with its method, path and operation id.
pub(crate) fn operations(spec: &ApiSpec) -> Vec<Op> {
    paths::operations(spec, &paths::scheme_names(spec))
}

/// The document of `spec` whose paths are `ops` (the warden's route list).
pub(crate) fn document_of(spec: &ApiSpec, ops: Vec<Op>) -> OpenApi {
    let schemes = paths::scheme_names(spec);
    let mut components = ComponentsBuilder::new();
    for (name, schema) in schemas::components(spec) {
        components = components.schema(name, schema);
    }
    for (backend, name) in spec.backends.iter().zip(&schemes) {
        components = components.security_scheme(name, security_scheme(spec, backend));
    }
    let mut tags = Vec::new();
    if !spec.backends.is_empty() || spec.register || spec.reset_password || spec.verify {
        tags.push(
            TagBuilder::new()
                .name("auth")
                .description(Some(
                    "Log in and out, refresh, register, reset a password, verify an e-mail.",
                ))
                .build(),
        );
    }
    if spec.users {
        tags.push(
            TagBuilder::new()
                .name("users")
                .description(Some("The current user, and every user for superusers."))
                .build(),
        );
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title(spec.title.clone())
                .version(env!("CARGO_PKG_VERSION").to_owned())
                .description(Some(
                    "Authentication routes served by warden: FastAPI Users' paths, JSON \
                     shapes and error codes.",
                )),
        )
        .paths(paths::paths(ops))
        .components(Some(components.build()))
        .tags(Some(tags))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn spec() -> ApiSpec {
        ApiSpec::new(
            "warden",
            vec![
                BackendSpec::bearer("jwt"),
                BackendSpec::cookie("cookie", "wardenauth"),
            ],
        )
    }

    fn json_of(spec: &ApiSpec) -> Value {
        let text = document(spec).to_json().unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("$ref", Value::String(target)) => out.push(target.clone()),
                        _ => refs(value, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
            _ => {}
        }
    }

    #[test]
    fn openapi_document_lists_every_route_with_fastapi_users_operation_ids() {
        let doc = json_of(&spec());
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], "warden");
        // FastAPI's operation ids (`generate_unique_id`: route name and path, `\W` as
        // `_`, then the method), as FastAPI Users' document has them.
        let expected = [
            (
                "/auth/jwt/login",
                "post",
                "auth_jwt_login_auth_jwt_login_post",
                "auth",
            ),
            (
                "/auth/jwt/logout",
                "post",
                "auth_jwt_logout_auth_jwt_logout_post",
                "auth",
            ),
            (
                "/auth/jwt/refresh",
                "post",
                "auth_jwt_refresh_auth_jwt_refresh_post",
                "auth",
            ),
            (
                "/auth/jwt/reauthenticate",
                "post",
                "auth_jwt_reauthenticate_auth_jwt_reauthenticate_post",
                "auth",
            ),
            (
                "/auth/jwt/stop-impersonating",
                "post",
                "auth_jwt_stop_impersonating_auth_jwt_stop_impersonating_post",
                "auth",
            ),
            (
                "/auth/cookie/login",
                "post",
                "auth_cookie_login_auth_cookie_login_post",
                "auth",
            ),
            (
                "/auth/cookie/logout",
                "post",
                "auth_cookie_logout_auth_cookie_logout_post",
                "auth",
            ),
            (
                "/auth/cookie/refresh",
                "post",
                "auth_cookie_refresh_auth_cookie_refresh_post",
                "auth",
            ),
            (
                "/auth/cookie/reauthenticate",
                "post",
                "auth_cookie_reauthenticate_auth_cookie_reauthenticate_post",
                "auth",
            ),
            (
                "/auth/cookie/stop-impersonating",
                "post",
                "auth_cookie_stop_impersonating_auth_cookie_stop_impersonating_post",
                "auth",
            ),
            (
                "/auth/register",
                "post",
                "register_register_auth_register_post",
                "auth",
            ),
            (
                "/auth/forgot-password",
                "post",
                "reset_forgot_password_auth_forgot_password_post",
                "auth",
            ),
            (
                "/auth/reset-password",
                "post",
                "reset_reset_password_auth_reset_password_post",
                "auth",
            ),
            (
                "/auth/request-verify-token",
                "post",
                "verify_request_token_auth_request_verify_token_post",
                "auth",
            ),
            (
                "/auth/verify",
                "post",
                "verify_verify_auth_verify_post",
                "auth",
            ),
            (
                "/users/me",
                "get",
                "users_current_user_users_me_get",
                "users",
            ),
            (
                "/users/me",
                "patch",
                "users_patch_current_user_users_me_patch",
                "users",
            ),
            (
                "/users/me/sessions",
                "get",
                "users_sessions_users_me_sessions_get",
                "users",
            ),
            (
                "/users/me/sessions",
                "delete",
                "users_delete_sessions_users_me_sessions_delete",
                "users",
            ),
            (
                "/users/me/sessions/{session_id}",
                "delete",
                "users_delete_session_users_me_sessions__session_id__delete",
                "users",
            ),
            ("/users/{id}", "get", "users_user_users__id__get", "users"),
            (
                "/users/{id}",
                "patch",
                "users_patch_user_users__id__patch",
                "users",
            ),
            (
                "/users/{id}",
                "delete",
                "users_delete_user_users__id__delete",
                "users",
            ),
            ("/users", "get", "users_list_users_users_get", "users"),
            (
                "/users/{id}/ban",
                "post",
                "users_ban_user_users__id__ban_post",
                "users",
            ),
            (
                "/users/{id}/unban",
                "post",
                "users_unban_user_users__id__unban_post",
                "users",
            ),
            (
                "/users/{id}/impersonate",
                "post",
                "users_impersonate_users__id__impersonate_post",
                "users",
            ),
        ];
        let paths = doc["paths"].as_object().unwrap();
        let operations: usize = paths
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert_eq!(operations, expected.len(), "{:#}", doc["paths"]);
        for (path, method, id, tag) in expected {
            let op = &doc["paths"][path][method];
            assert_eq!(op["operationId"], id, "{method} {path}");
            assert_eq!(op["tags"], json!([tag]), "{method} {path}");
        }
        assert_eq!(
            doc["paths"]["/users/me"]["get"]["summary"],
            "Users:Current User"
        );
        let tags: Vec<&str> = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(tags, ["auth", "users"]);
    }

    #[test]
    fn openapi_security_schemes_are_fastapi_users_ones() {
        let doc = json_of(&spec());
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(
            schemes["OAuth2PasswordBearer"],
            json!({
                "type": "oauth2",
                "flows": { "password": { "tokenUrl": "auth/jwt/login", "scopes": {} } }
            })
        );
        assert_eq!(
            schemes["APIKeyCookie"],
            json!({ "type": "apiKey", "in": "cookie", "name": "wardenauth" })
        );
        assert_eq!(schemes.as_object().unwrap().len(), 2);
        let any_user = json!([{ "OAuth2PasswordBearer": [] }, { "APIKeyCookie": [] }]);
        for (path, method) in [
            ("/users/me", "get"),
            ("/users/me", "patch"),
            ("/users/{id}", "get"),
            ("/users/{id}", "patch"),
            ("/users/{id}", "delete"),
        ] {
            assert_eq!(doc["paths"][path][method]["security"], any_user, "{path}");
        }
        assert_eq!(
            doc["paths"]["/auth/jwt/logout"]["post"]["security"],
            json!([{ "OAuth2PasswordBearer": [] }])
        );
        assert_eq!(
            doc["paths"]["/auth/cookie/refresh"]["post"]["security"],
            json!([{ "APIKeyCookie": [] }])
        );
        for path in ["/auth/jwt/login", "/auth/register", "/auth/verify"] {
            assert!(
                doc["paths"][path]["post"].get("security").is_none(),
                "{path}"
            );
        }
    }

    #[test]
    fn openapi_several_backends_of_a_kind_get_suffixed_scheme_names() {
        let spec = ApiSpec {
            backends: vec![
                BackendSpec::bearer("jwt"),
                BackendSpec::bearer("rsa"),
                BackendSpec::cookie("cookie", "wardenauth"),
            ],
            ..spec()
        };
        let doc = json_of(&spec);
        let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
        let mut names: Vec<&str> = schemes.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "APIKeyCookie",
                "OAuth2PasswordBearer_jwt",
                "OAuth2PasswordBearer_rsa"
            ]
        );
        assert_eq!(
            schemes["OAuth2PasswordBearer_rsa"]["flows"]["password"]["tokenUrl"],
            "auth/rsa/login"
        );
        assert_eq!(
            doc["paths"]["/users/me"]["get"]["security"],
            json!([
                { "OAuth2PasswordBearer_jwt": [] },
                { "OAuth2PasswordBearer_rsa": [] },
                { "APIKeyCookie": [] }
            ])
        );
    }

    #[test]
    fn openapi_login_takes_the_form_or_json_and_answers_per_transport() {
        let doc = json_of(&spec());
        let login = &doc["paths"]["/auth/jwt/login"]["post"];
        let body = &login["requestBody"];
        assert_eq!(body["required"], true);
        assert_eq!(
            body["content"]["application/x-www-form-urlencoded"]["schema"]["$ref"],
            "#/components/schemas/OAuth2PasswordRequestForm"
        );
        assert_eq!(
            body["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/LoginCredentials"
        );
        let form = &doc["components"]["schemas"]["OAuth2PasswordRequestForm"];
        assert_eq!(form["required"], json!(["username", "password"]));
        assert_eq!(
            form["properties"]["grant_type"]["anyOf"][0]["pattern"],
            "^password$"
        );
        for field in ["scope", "client_id", "client_secret"] {
            assert!(form["properties"].get(field).is_some(), "{field}");
        }
        assert_eq!(
            login["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/BearerResponse"
        );
        let examples = &login["responses"]["400"]["content"]["application/json"]["examples"];
        assert_eq!(
            examples["LOGIN_BAD_CREDENTIALS"]["value"],
            json!({ "detail": "LOGIN_BAD_CREDENTIALS" })
        );
        assert_eq!(
            examples["LOGIN_USER_NOT_VERIFIED"]["value"],
            json!({ "detail": "LOGIN_USER_NOT_VERIFIED" })
        );
        assert_eq!(
            login["responses"]["422"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/HTTPValidationError"
        );

        let cookie_login = &doc["paths"]["/auth/cookie/login"]["post"]["responses"];
        assert!(cookie_login.get("200").is_none());
        assert!(cookie_login["204"]["headers"].get("Set-Cookie").is_some());
        let logout = &doc["paths"]["/auth/jwt/logout"]["post"]["responses"];
        assert!(logout.get("204").is_some());
        assert!(logout["401"]["headers"].get("WWW-Authenticate").is_some());
        assert!(
            doc["paths"]["/auth/jwt/refresh"]["post"]["responses"]
                .get("401")
                .is_some()
        );
    }

    #[test]
    fn openapi_routes_answer_fastapi_users_codes_and_statuses() {
        let doc = json_of(&spec());
        let codes = |path: &str, method: &str| -> Vec<String> {
            let mut codes: Vec<String> = doc["paths"][path][method]["responses"]["400"]["content"]
                ["application/json"]["examples"]
                .as_object()
                .map(|examples| examples.keys().cloned().collect())
                .unwrap_or_default();
            codes.sort();
            codes
        };
        assert_eq!(
            codes("/auth/register", "post"),
            ["REGISTER_INVALID_PASSWORD", "REGISTER_USER_ALREADY_EXISTS"]
        );
        assert_eq!(
            codes("/auth/reset-password", "post"),
            [
                "RESET_PASSWORD_BAD_TOKEN",
                "RESET_PASSWORD_INVALID_PASSWORD"
            ]
        );
        assert_eq!(
            codes("/auth/verify", "post"),
            ["VERIFY_USER_ALREADY_VERIFIED", "VERIFY_USER_BAD_TOKEN"]
        );
        for (path, method) in [("/users/me", "patch"), ("/users/{id}", "patch")] {
            assert_eq!(
                codes(path, method),
                [
                    "UPDATE_USER_EMAIL_ALREADY_EXISTS",
                    "UPDATE_USER_INVALID_PASSWORD"
                ]
            );
        }
        assert_eq!(
            doc["paths"]["/auth/register"]["post"]["responses"]["400"]["content"]["application/json"]
                ["examples"]["REGISTER_INVALID_PASSWORD"]["value"]["detail"]["code"],
            "REGISTER_INVALID_PASSWORD"
        );
        let statuses = |path: &str, method: &str| -> Vec<String> {
            let mut statuses: Vec<String> = doc["paths"][path][method]["responses"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            statuses.sort();
            statuses
        };
        assert_eq!(statuses("/auth/register", "post"), ["201", "400", "422"]);
        assert_eq!(statuses("/auth/forgot-password", "post"), ["202", "422"]);
        assert_eq!(
            statuses("/auth/reset-password", "post"),
            ["200", "400", "422"]
        );
        assert_eq!(
            statuses("/auth/request-verify-token", "post"),
            ["202", "422"]
        );
        assert_eq!(statuses("/auth/verify", "post"), ["200", "400", "422"]);
        assert_eq!(statuses("/users/me", "get"), ["200", "401"]);
        assert_eq!(statuses("/users/me", "patch"), ["200", "400", "401", "422"]);
        // FastAPI documents a 422 on every route with a parameter, as here.
        assert_eq!(
            statuses("/users/{id}", "get"),
            ["200", "401", "403", "404", "422"]
        );
        assert_eq!(
            statuses("/users/{id}", "patch"),
            ["200", "400", "401", "403", "404", "422"]
        );
        assert_eq!(
            statuses("/users/{id}", "delete"),
            ["204", "401", "403", "404", "422"]
        );
        let created = &doc["paths"]["/auth/register"]["post"]["responses"]["201"];
        assert_eq!(
            created["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/UserRead"
        );
        let id = &doc["paths"]["/users/{id}"]["delete"]["parameters"][0];
        assert_eq!(id["name"], "id");
        assert_eq!(id["in"], "path");
        assert_eq!(id["required"], true);
        assert_eq!(id["schema"]["format"], "uuid");
        let forgot = &doc["paths"]["/auth/forgot-password"]["post"]["requestBody"];
        assert_eq!(
            forgot["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ForgotPasswordRequest"
        );
    }

    #[test]
    fn openapi_schemas_are_fastapi_users_models() {
        let doc = json_of(&spec());
        let schemas = &doc["components"]["schemas"];
        for name in [
            "UserRead",
            "UserCreate",
            "UserUpdate",
            "BearerResponse",
            "ErrorModel",
            "HTTPValidationError",
            "ValidationError",
        ] {
            assert_eq!(schemas[name]["type"], "object", "{name}");
        }
        let user = &schemas["UserRead"];
        let mut fields: Vec<&str> = user["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            ["email", "id", "is_active", "is_superuser", "is_verified"]
        );
        assert_eq!(user["properties"]["id"]["format"], "uuid");
        assert_eq!(user["properties"]["email"]["format"], "email");
        assert_eq!(
            schemas["UserCreate"]["required"],
            json!(["email", "password"])
        );
        assert!(schemas["UserUpdate"].get("required").is_none());
        assert_eq!(
            schemas["BearerResponse"]["required"],
            json!(["access_token", "token_type"])
        );
        let detail = &schemas["ErrorModel"]["properties"]["detail"]["anyOf"];
        assert_eq!(detail[0]["type"], "string");
        assert_eq!(detail[1]["required"], json!(["code", "reason"]));
        assert_eq!(
            schemas["HTTPValidationError"]["properties"]["detail"]["items"]["$ref"],
            "#/components/schemas/ValidationError"
        );
        assert_eq!(
            schemas["ValidationError"]["required"],
            json!(["loc", "msg", "type"])
        );

        let mut targets = Vec::new();
        refs(&doc, &mut targets);
        assert!(!targets.is_empty());
        for target in targets {
            let name = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected $ref {target}"));
            assert!(schemas.get(name).is_some(), "dangling $ref {target}");
        }
        let text = document(&spec()).to_json().unwrap();
        let reparsed: OpenApi = serde_json::from_str(&text).unwrap();
        let again: Value = serde_json::from_str(&reparsed.to_json().unwrap()).unwrap();
        assert!(
            again == doc,
            "the document does not survive a round trip through utoipa"
        );
    }

    #[test]
    fn openapi_documents_only_the_routers_the_spec_enables() {
        let spec = ApiSpec {
            backends: vec![BackendSpec::bearer("jwt")],
            register: false,
            users: false,
            reset_password: false,
            verify: false,
            ..spec()
        };
        let doc = json_of(&spec);
        let mut paths: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            [
                "/auth/jwt/login",
                "/auth/jwt/logout",
                "/auth/jwt/reauthenticate",
                "/auth/jwt/refresh"
            ]
        );
        assert!(doc["components"]["schemas"].get("VerifyRequest").is_none());
        let tags: Vec<&str> = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(tags, ["auth"]);
    }

    /// One HTTP/1.1 request to `router(spec)` on a real socket: (status line, headers, body).
    async fn fetch(path: &str) -> (String, String, Vec<u8>) {
        request("GET", path).await
    }

    async fn request(method: &str, path: &str) -> (String, String, Vec<u8>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let app: axum::Router = router(&spec());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(raw[..split].to_vec()).unwrap();
        let (status, headers) = head.split_once("\r\n").unwrap();
        (
            status.to_owned(),
            headers.to_ascii_lowercase(),
            raw[split + 4..].to_vec(),
        )
    }

    #[tokio::test]
    async fn openapi_router_serves_the_document_the_page_and_the_assets() {
        let (status, headers, body) = fetch("/openapi.json").await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(
            headers.contains("content-type: application/json"),
            "{headers}"
        );
        let served: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(served, json_of(&spec()));

        let (status, headers, body) = fetch("/docs").await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(
            headers.contains("content-type: text/html; charset=utf-8"),
            "{headers}"
        );
        assert!(
            headers.contains("content-security-policy: default-src 'none'"),
            "{headers}"
        );
        let html = String::from_utf8(body).unwrap();
        assert!(
            html.contains("<title>warden - Swagger UI</title>"),
            "{html}"
        );

        for (path, content_type, start) in [
            ("/docs/swagger-ui-bundle.js", "text/javascript", &b"/*!"[..]),
            ("/docs/swagger-ui.css", "text/css", &b".swagger-ui"[..]),
            (
                "/docs/swagger-initializer.js",
                "text/javascript",
                &b"window.ui"[..],
            ),
        ] {
            let (status, headers, body) = fetch(path).await;
            assert_eq!(status, "HTTP/1.1 200 OK", "{path}");
            assert!(
                headers.contains(&format!("content-type: {content_type}")),
                "{path}: {headers}"
            );
            assert!(body.starts_with(start), "{path}");
        }
        let (status, _, _) = fetch("/docs/nothing-here.js").await;
        assert_eq!(status, "HTTP/1.1 404 Not Found");
        let (status, _, body) = request("POST", "/openapi.json").await;
        assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            json!({ "detail": "Method Not Allowed" })
        );
    }
}
