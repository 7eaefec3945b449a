//! The document's operations: FastAPI Users' routes with their operation ids, request
//! bodies, responses and error codes.

use std::sync::Arc;

use serde_json::{Value, json};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, PathsBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Paths, Required};

use super::operation::Operation;
use super::schemas::{self, reference};
use super::{ApiSpec, BackendSpec, TransportDoc};
use crate::error::ErrorCode;

pub(super) mod admin;
pub(super) mod api_keys;
#[cfg(feature = "passkeys")]
pub(super) mod passkeys;

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";
const TAG_AUTH: &str = "auth";
const TAG_USERS: &str = "users";
const EXAMPLE_PASSWORD_REASON: &str = "Password should be at least 8 characters";

/// What an operation answers besides its success response.
#[derive(Default)]
struct Errors {
    /// 400 examples: (error code, summary, `detail` value).
    bad_request: Vec<(ErrorCode, &'static str, Value)>,
    unauthorized: bool,
    forbidden: bool,
    not_found: bool,
    validation: bool,
    /// 403 `LOGIN_2FA_REQUIRED` with an `mfa_token`: the user has a second factor.
    mfa_required: bool,
}

impl Errors {
    fn new() -> Self {
        Self::default()
    }

    fn code(mut self, code: ErrorCode, summary: &'static str) -> Self {
        self.bad_request
            .push((code, summary, Value::from(code.as_str())));
        self
    }

    fn code_with_reason(mut self, code: ErrorCode, summary: &'static str) -> Self {
        self.bad_request.push((
            code,
            summary,
            json!({ "code": code.as_str(), "reason": EXAMPLE_PASSWORD_REASON }),
        ));
        self
    }

    /// A 400 whose `detail` is an object: `{"code": ..., ...example}`.
    fn code_with_detail(mut self, code: ErrorCode, summary: &'static str, example: Value) -> Self {
        let mut detail = json!({ "code": code.as_str() });
        if let (Some(detail), Value::Object(fields)) = (detail.as_object_mut(), example) {
            detail.extend(fields);
        }
        self.bad_request.push((code, summary, detail));
        self
    }

    /// The refusal of a banned user's right credential.
    fn banned(self) -> Self {
        self.code_with_detail(
            ErrorCode::LoginUserBanned,
            "The credential was right and the user is banned, until `until` (`null`: until lifted).",
            json!({ "until": "2026-12-31T00:00:00Z" }),
        )
    }

    fn unauthorized(mut self) -> Self {
        self.unauthorized = true;
        self
    }

    fn forbidden(mut self) -> Self {
        self.forbidden = true;
        self
    }

    fn not_found(mut self) -> Self {
        self.not_found = true;
        self
    }

    fn validation(mut self) -> Self {
        self.validation = true;
        self
    }

    fn mfa_required(mut self) -> Self {
        self.mfa_required = true;
        self
    }
}

/// One documented operation, before it becomes a utoipa `Operation`: the typed
/// [`Operation`] (its method, name and switch) at its path, and its description.
pub(crate) struct Op {
    operation: Operation,
    path: String,
    tag: &'static str,
    description: String,
    body: Option<Vec<(&'static str, &'static str)>>,
    success: (u16, Response),
    errors: Errors,
    security: Vec<SecurityRequirement>,
    /// `Some(integer)`: a `{id}` path parameter, an integer or a UUID.
    id_parameter: Option<bool>,
    /// Path parameters other than `{id}`: name, title, description.
    path_parameters: Vec<(&'static str, &'static str, &'static str)>,
    /// What a 404 means, when the route has one.
    not_found: &'static str,
    /// Optional query parameters, in FastAPI Users' order.
    query: Vec<(&'static str, Query)>,
    /// Whether a request may come without the body.
    body_optional: bool,
}

/// The type of an optional query parameter, as FastAPI writes it (the OAuth routes
/// and the admin list have them).
#[derive(Clone, Copy)]
enum Query {
    /// `list[str] = Query(None)`: repeatable (`?scopes=a&scopes=b`).
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    Strings,
    /// `str | None = None`.
    Text,
    /// `bool | None = None`.
    Bool,
    /// `int | None = None`.
    Integer,
}

impl Op {
    /// `GET`, `POST`, ...
    pub(crate) fn method(&self) -> &'static str {
        match self.operation.method() {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Head => "HEAD",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Trace => "TRACE",
        }
    }

    /// The route's path, `{id}` style.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// The route it documents; its name (`Display`) is FastAPI Users' route name,
    /// e.g. `auth:jwt.login`, from which the document's operation id is made
    /// ([`operation_id`]).
    pub(crate) fn operation(&self) -> &Operation {
        &self.operation
    }

    /// An operation at its FastAPI Users path.
    fn new(operation: Operation) -> Self {
        Self {
            path: operation.default_path(),
            operation,
            tag: TAG_AUTH,
            description: String::new(),
            body: None,
            success: (200, Response::new("Successful Response")),
            errors: Errors::new(),
            security: Vec::new(),
            id_parameter: None,
            path_parameters: Vec::new(),
            not_found: "The user does not exist.",
            query: Vec::new(),
            body_optional: false,
        }
    }

    fn tag(mut self, tag: &'static str) -> Self {
        self.tag = tag;
        self
    }

    fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// A required body: (media type, schema name) for each accepted encoding.
    fn body(mut self, contents: &[(&'static str, &'static str)]) -> Self {
        self.body = Some(contents.to_vec());
        self
    }

    fn optional_body(mut self, contents: &[(&'static str, &'static str)]) -> Self {
        self.body_optional = true;
        self.body(contents)
    }

    fn session_parameter(mut self) -> Self {
        self.path_parameters.push((
            "session_id",
            "Session Id",
            "The session's id, as `GET /users/me/sessions` lists it.",
        ));
        self.not_found = "No such live session of the current user.";
        self
    }

    /// The `{key_id}` of an API key.
    fn key_parameter(mut self, not_found: &'static str) -> Self {
        self.path_parameters.push((
            "key_id",
            "Key Id",
            "The key's public id, as `GET /users/me/api-keys` lists it.",
        ));
        self.not_found = not_found;
        self
    }

    /// The `{passkey_id}` of one of the current user's passkeys.
    #[cfg(feature = "passkeys")]
    fn passkey_parameter(mut self) -> Self {
        self.path_parameters.push((
            "passkey_id",
            "Passkey Id",
            "The passkey's id, as `GET /users/me/passkeys` lists it.",
        ));
        self.not_found = "No such passkey of the current user.";
        self
    }

    /// The `{oauth_name}` and `{account_id}` of a linked provider account.
    #[cfg(feature = "oauth")]
    fn oauth_account_parameters(mut self) -> Self {
        self.path_parameters.push((
            "oauth_name",
            "Oauth Name",
            "The provider (the OAuth client's name), as `GET /users/me/oauth-accounts` lists it.",
        ));
        self.path_parameters.push((
            "account_id",
            "Account Id",
            "The provider's id of the account, as `GET /users/me/oauth-accounts` lists it.",
        ));
        self.not_found = "No such provider account is linked to the current user.";
        self
    }

    fn query(mut self, name: &'static str, kind: Query) -> Self {
        self.query.push((name, kind));
        self
    }

    fn success(mut self, status: u16, response: Response) -> Self {
        self.success = (status, response);
        self
    }

    fn errors(mut self, errors: Errors) -> Self {
        self.errors = errors;
        self
    }

    fn security(mut self, schemes: &[String]) -> Self {
        self.security = schemes
            .iter()
            .map(|scheme| SecurityRequirement::new(scheme, Vec::<String>::new()))
            .collect();
        self
    }

    fn id_parameter(mut self, integer: bool) -> Self {
        self.id_parameter = Some(integer);
        self
    }

    pub(crate) fn into_path_item(self) -> (String, PathItem) {
        let name = self.operation.to_string();
        let id = operation_id(&name, &self.path, self.method());
        let mut operation = OperationBuilder::new()
            .tag(self.tag)
            .summary(Some(summary(&name)))
            .description((!self.description.is_empty()).then_some(self.description))
            .operation_id(Some(id));
        if let Some(integer) = self.id_parameter {
            let (description, schema) = if integer {
                (
                    "The user's id (an integer).",
                    ObjectBuilder::new().schema_type(Type::Integer),
                )
            } else {
                (
                    "The user's id (a UUID).",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::Custom("uuid".into()))),
                )
            };
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some(description))
                    .schema(Some(schema.title(Some("Id")))),
            );
        }
        for (name, title, description) in self.path_parameters {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some(description))
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .title(Some(title)),
                    )),
            );
        }
        for (name, kind) in self.query {
            let schema: Schema = match kind {
                Query::Strings => ArrayBuilder::new()
                    .items(ObjectBuilder::new().schema_type(Type::String))
                    .into(),
                Query::Text => AnyOfBuilder::new()
                    .item(ObjectBuilder::new().schema_type(Type::String))
                    .item(ObjectBuilder::new().schema_type(Type::Null))
                    .into(),
                Query::Bool => AnyOfBuilder::new()
                    .item(ObjectBuilder::new().schema_type(Type::Boolean))
                    .item(ObjectBuilder::new().schema_type(Type::Null))
                    .into(),
                Query::Integer => AnyOfBuilder::new()
                    .item(ObjectBuilder::new().schema_type(Type::Integer))
                    .item(ObjectBuilder::new().schema_type(Type::Null))
                    .into(),
            };
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .schema(Some(schema)),
            );
        }
        let has_body = self.body.is_some();
        if let Some(contents) = self.body {
            let required = if self.body_optional {
                Required::False
            } else {
                Required::True
            };
            let mut body = RequestBodyBuilder::new().required(Some(required));
            for (media_type, schema) in contents {
                body = body.content(
                    media_type,
                    ContentBuilder::new().schema(Some(reference(schema))),
                );
            }
            operation = operation.request_body(Some(body.build()));
        }
        let (status, response) = self.success;
        operation = operation.response(status.to_string(), response);
        let errors = self.errors;
        if !errors.bad_request.is_empty() {
            operation = operation.response("400", bad_request(&errors.bad_request));
        }
        if errors.unauthorized {
            let response = error_response("Missing token or inactive user.", "Unauthorized")
                .header(
                    "WWW-Authenticate",
                    HeaderBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .description(Some("`Bearer` (RFC 6750; FastAPI Users omits it)."))
                        .build(),
                );
            operation = operation.response("401", response);
        }
        if errors.forbidden {
            operation = operation.response("403", error_response("Not a superuser.", "Forbidden"));
        }
        if errors.mfa_required {
            operation = operation.response(
                "403",
                json_response(
                    "The first factor was right and the user has a second: finish at \
                     `POST /auth/{name}/login/2fa` (or this route with Auth0's MFA grant \
                     types) with the `mfa_token` within 5 minutes. warden's own answer: \
                     FastAPI Users has no second factor, so its clients see a refused login.",
                    schemas::MFA_REQUIRED,
                    Some(json!({
                        "detail": "LOGIN_2FA_REQUIRED",
                        "error": "mfa_required",
                        "mfa_token": "Wq3nO0b9..."
                    })),
                ),
            );
        }
        if errors.not_found {
            operation = operation.response("404", error_response(self.not_found, "Not Found"));
        }
        if errors.validation {
            operation = operation.response(
                "422",
                ResponseBuilder::new()
                    .description("Validation Error")
                    .content(
                        JSON,
                        ContentBuilder::new()
                            .schema(Some(reference(schemas::HTTP_VALIDATION_ERROR)))
                            // An example of a body's problem, only where there is a body.
                            .example(has_body.then(|| json!({
                                "detail": [
                                    { "type": "missing", "loc": ["body", "password"], "msg": "Field required" }
                                ]
                            })))
                            .build(),
                    ),
            );
        }
        if !self.security.is_empty() {
            operation = operation.securities(Some(self.security));
        }
        (
            self.path,
            PathItem::new(self.operation.method(), operation.build()),
        )
    }
}

/// FastAPI's operation id (`fastapi.utils.generate_unique_id`): the route name and
/// the path, every character but letters, digits and `_` (Python's `\W`) written
/// `_`, then `_` and the method: `auth:jwt.login` at `/auth/jwt/login` is
/// `auth_jwt_login_auth_jwt_login_post`.
fn operation_id(name: &str, path: &str, method: &str) -> String {
    let word = |c: char| {
        if c.is_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    };
    let mut id: String = name.chars().chain(path.chars()).map(word).collect();
    id.push('_');
    id.push_str(&method.to_ascii_lowercase());
    id
}

/// FastAPI's summary: the route name, `_` as spaces, in Python's `str.title()` case
/// (`users:current_user` → `Users:Current User`).
fn summary(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    let mut previous_is_letter = false;
    for c in id.chars() {
        let c = if c == '_' { ' ' } else { c };
        if c.is_alphabetic() {
            if previous_is_letter {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            previous_is_letter = true;
        } else {
            out.push(c);
            previous_is_letter = false;
        }
    }
    out
}

fn json_response(description: &str, schema: &str, example: Option<Value>) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            JSON,
            ContentBuilder::new()
                .schema(Some(reference(schema)))
                .example(example)
                .build(),
        )
        .build()
}

/// A JSON response of any shape: FastAPI's `schema: {}` for a route without a
/// response model.
#[cfg(any(feature = "oauth", feature = "passkeys"))]
fn any_json_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            JSON,
            ContentBuilder::new()
                .schema(Some(
                    ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::AnyValue),
                ))
                .build(),
        )
        .build()
}

fn json_array_response(description: &str, schema: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            JSON,
            ContentBuilder::new()
                .schema(Some(
                    utoipa::openapi::schema::ArrayBuilder::new().items(reference(schema)),
                ))
                .build(),
        )
        .build()
}

fn null_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            JSON,
            ContentBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::Null)))
                .build(),
        )
        .build()
}

fn error_response(description: &str, detail: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        JSON,
        ContentBuilder::new()
            .schema(Some(reference(schemas::ERROR_MODEL)))
            .example(Some(json!({ "detail": detail })))
            .build(),
    )
}

fn bad_request(examples: &[(ErrorCode, &'static str, Value)]) -> Response {
    let content = ContentBuilder::new()
        .schema(Some(reference(schemas::ERROR_MODEL)))
        .examples_from_iter(examples.iter().map(|(code, summary, detail)| {
            (
                code.as_str(),
                ExampleBuilder::new()
                    .summary(*summary)
                    .value(Some(json!({ "detail": detail }))),
            )
        }))
        .build();
    ResponseBuilder::new()
        .description("Bad Request")
        .content(JSON, content)
        .build()
}

fn set_cookie(cookie: &str, description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .header(
            "Set-Cookie",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .description(Some(format!("The `{cookie}` cookie (HttpOnly).")))
                .build(),
        )
        .build()
}

/// The scheme name a transport gets in FastAPI's document.
fn scheme_base(backend: &BackendSpec) -> &'static str {
    match backend.transport {
        TransportDoc::Bearer if backend.api_key => "HTTPBearer",
        TransportDoc::Cookie(_) => "APIKeyCookie",
        TransportDoc::Header(_) => "APIKeyHeader",
        _ => "OAuth2PasswordBearer",
    }
}

/// The security scheme names of the document, one per backend, in the backends' order.
pub(super) fn scheme_names(spec: &ApiSpec) -> Vec<String> {
    spec.backends
        .iter()
        .map(|backend| {
            let base = scheme_base(backend);
            let count = spec
                .backends
                .iter()
                .filter(|other| scheme_base(other) == base)
                .count();
            if count > 1 {
                format!("{base}_{}", backend.name)
            } else {
                base.to_owned()
            }
        })
        .collect()
}

/// The backend's login path, relative (`auth/{name}/login`, or `login` for a login
/// served at `/login`), as FastAPI Users' `BearerTransport(tokenUrl=...)` and
/// FastAPI's `OAuth2PasswordBearer(tokenUrl="login")` write it; Swagger UI resolves
/// it against the page.
pub(super) fn token_url(spec: &ApiSpec, backend: &BackendSpec) -> String {
    let login = Operation::Login {
        backend: Arc::from(backend.name.as_str()),
    };
    let path = spec
        .paths
        .get(&login.to_string())
        .cloned()
        .unwrap_or_else(|| login.default_path());
    path.trim_start_matches('/').to_owned()
}

fn auth_operations(backend: &BackendSpec, scheme: &str, two_factor: bool) -> Vec<Op> {
    let name: Arc<str> = Arc::from(backend.name.as_str());
    let login_success = |what: &str| match backend.cookie_name() {
        None => (
            200,
            json_response(
                "Successful Response",
                schemas::BEARER_RESPONSE,
                Some(json!({
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI5YzM2...",
                    "token_type": "bearer"
                })),
            ),
        ),
        Some(cookie) => (204, set_cookie(cookie, &format!("No Content: {what}"))),
    };
    let (login_status, login_response) = login_success("the cookie carries the token.");
    let (refresh_status, refresh_response) = login_success("the cookie carries a fresh token.");
    let (reauth_status, reauth_response) =
        login_success("the cookie carries a token of the renewed sign-in.");
    let logout_response = match backend.cookie_name() {
        None => Response::new("No Content"),
        Some(cookie) => set_cookie(cookie, "No Content: the cookie is cleared."),
    };
    let scheme = [scheme.to_owned()];
    vec![
        Op::new(Operation::Login {
            backend: Arc::clone(&name),
        })
        .description(
            "Log in with the OAuth2 password form (`username` is the login: the e-mail, or \
                 the username) or the same two fields as JSON. An unknown user, a wrong \
                 password and an inactive user all get `LOGIN_BAD_CREDENTIALS`.",
        )
        .body(&[(FORM, schemas::LOGIN_FORM), (JSON, schemas::LOGIN_JSON)])
        .success(login_status, login_response.clone())
        .errors({
            let errors = Errors::new()
                .code(
                    ErrorCode::LoginBadCredentials,
                    "Bad credentials or the user is inactive.",
                )
                .code(ErrorCode::LoginUserNotVerified, "The user is not verified.")
                .banned()
                .validation();
            if two_factor {
                errors
                    .code(ErrorCode::Login2faBadToken, "With an MFA grant type: the `mfa_token` is unknown, used, expired, out of tries, or another backend's or browser's.")
                    .code(ErrorCode::Login2faBadCode, "With an MFA grant type: the code does not check.")
                    .mfa_required()
            } else {
                errors
            }
        }),
        Op::new(Operation::LoginSecondFactor {
            backend: Arc::clone(&name),
        })
        .description(
            "The second step of a sign-in: the `mfa_token` a correct first factor got \
             (403 `LOGIN_2FA_REQUIRED`) and a code from the authenticator app (`code`, or \
             `otp`) or a recovery code (`recovery_code`), form or JSON; the same as the \
             login route with Auth0's grant types `http://auth0.com/oauth/grant-type/mfa-otp` \
             and `.../mfa-recovery-code`. The token is single use, lives 5 minutes, allows \
             5 tries and, on a cookie backend, only works in the browser it was given to. \
             `remember_device: true` on a cookie backend (when the application allows it) \
             skips the code on this browser's next sign-ins.",
        )
        .body(&[(FORM, schemas::SECOND_FACTOR), (JSON, schemas::SECOND_FACTOR)])
        .success(login_status, login_response)
        .errors(
            Errors::new()
                .code(
                    ErrorCode::Login2faBadToken,
                    "The `mfa_token` is unknown, used, expired, out of tries, or another backend's or browser's.",
                )
                .code(ErrorCode::Login2faBadCode, "The code does not check.")
                .code(ErrorCode::LoginBadCredentials, "The user became inactive.")
                .validation(),
        ),
        Op::new(Operation::Logout {
            backend: Arc::clone(&name),
        })
        .success(204, logout_response)
        .errors(Errors::new().unauthorized())
        .security(&scheme),
        Op::new(Operation::Refresh {
            backend: Arc::clone(&name),
        })
        .description(
            "With a refresh token in the body (form `grant_type=refresh_token&refresh_token=...`, \
             or JSON), on a backend that issues them: a new access and refresh token; the \
             refresh token is used up, and presenting it again ends its whole session \
             (400 `{\"error\": \"invalid_grant\"}`). Without one: a valid access token of an \
             active user buys a fresh one of the same login, which never outlives the \
             maximum session age.",
        )
        .optional_body(&[
            (FORM, schemas::REFRESH_REQUEST),
            (JSON, schemas::REFRESH_REQUEST),
        ])
        .success(refresh_status, refresh_response)
        .errors(Errors::new().unauthorized())
        .security(&scheme),
        Op::new(Operation::Reauthenticate { backend: name })
            .description(
                "Step-up (RFC 9470): the signed-in user gives the password again and the same \
             session is signed anew; the answer is the login response, with tokens that \
             routes guarded with `fresh = N` accept for N seconds. They answer a stale \
             sign-in with 401 `REAUTHENTICATION_REQUIRED` and `WWW-Authenticate: Bearer \
             error=\"insufficient_user_authentication\", max_age=N`.",
            )
            .body(&[
                (FORM, schemas::REAUTHENTICATE_REQUEST),
                (JSON, schemas::REAUTHENTICATE_REQUEST),
            ])
            .success(reauth_status, reauth_response)
            .errors(
                Errors::new()
                    .code(
                        ErrorCode::LoginBadCredentials,
                        "The password is wrong, or the username is not the user's own.",
                    )
                    .unauthorized()
                    .validation(),
            )
            .security(&scheme),
    ]
}

fn register_operations() -> Vec<Op> {
    vec![
        Op::new(Operation::Register)
            .body(&[(JSON, schemas::USER_CREATE)])
            .success(
                201,
                json_response("Successful Response", schemas::USER_READ, None),
            )
            .errors(
                Errors::new()
                    .code(
                        ErrorCode::RegisterUserAlreadyExists,
                        "A user with this email already exists.",
                    )
                    .code_with_reason(
                        ErrorCode::RegisterInvalidPassword,
                        "Password validation failed.",
                    )
                    .validation(),
            ),
    ]
}

fn reset_operations() -> Vec<Op> {
    vec![
        Op::new(Operation::ForgotPassword)
            .description(
                "Always 202, whether or not the e-mail belongs to an active user; the reset \
                 token goes to the application's `on_after_forgot_password` hook.",
            )
            .body(&[(JSON, schemas::FORGOT_PASSWORD)])
            .success(202, null_response("Successful Response"))
            .errors(Errors::new().validation()),
        Op::new(Operation::ResetPassword)
            .body(&[(JSON, schemas::RESET_PASSWORD)])
            .success(200, null_response("Successful Response"))
            .errors(
                Errors::new()
                    .code(ErrorCode::ResetPasswordBadToken, "Bad or expired token.")
                    .code_with_reason(
                        ErrorCode::ResetPasswordInvalidPassword,
                        "Password validation failed.",
                    )
                    .validation(),
            ),
    ]
}

fn verify_operations() -> Vec<Op> {
    vec![
        Op::new(Operation::RequestVerifyToken)
            .description(
                "Always 202; a token goes to the application's `on_after_request_verify` hook \
                 only for an active, unverified user.",
            )
            .body(&[(JSON, schemas::REQUEST_VERIFY_TOKEN)])
            .success(202, null_response("Successful Response"))
            .errors(Errors::new().validation()),
        Op::new(Operation::Verify)
            .body(&[(JSON, schemas::VERIFY)])
            .success(
                200,
                json_response("Successful Response", schemas::USER_READ, None),
            )
            .errors(
                Errors::new()
                    .code(
                        ErrorCode::VerifyUserBadToken,
                        "Bad token, not existing user or not the e-mail currently set for the user.",
                    )
                    .code(
                        ErrorCode::VerifyUserAlreadyVerified,
                        "The user is already verified.",
                    )
                    .validation(),
            ),
    ]
}

fn update_errors() -> Errors {
    Errors::new()
        .code(
            ErrorCode::UpdateUserEmailAlreadyExists,
            "A user with this email already exists.",
        )
        .code_with_reason(
            ErrorCode::UpdateUserInvalidPassword,
            "Password validation failed.",
        )
}

fn users_operations(schemes: &[String], integer_ids: bool) -> Vec<Op> {
    let user = || json_response("Successful Response", schemas::USER_READ, None);
    vec![
        Op::new(Operation::CurrentUser)
            .tag(TAG_USERS)
            .success(200, user())
            .errors(Errors::new().unauthorized())
            .security(schemes),
        Op::new(Operation::PatchCurrentUser)
            .tag(TAG_USERS)
            .description("Flags in the body are ignored; changing the e-mail unverifies the user.")
            .body(&[(JSON, schemas::USER_UPDATE)])
            .success(200, user())
            .errors(update_errors().unauthorized().validation())
            .security(schemes),
        Op::new(Operation::Sessions)
            .tag(TAG_USERS)
            .description("The current user's live sessions (logins), newest first.")
            .success(
                200,
                json_array_response("Successful Response", schemas::SESSION_READ),
            )
            .errors(Errors::new().unauthorized())
            .security(schemes),
        Op::new(Operation::DeleteSessions)
            .tag(TAG_USERS)
            .description(
                "Log out everywhere: every session and token of the current user ends, on \
                 every instance, this request's own included.",
            )
            .success(204, Response::new("Successful Response"))
            .errors(Errors::new().unauthorized())
            .security(schemes),
        Op::new(Operation::DeleteSession)
            .tag(TAG_USERS)
            .description(
                "Ends one of the current user's sessions and its tokens, on every instance. \
             Anyone else's, an ended or an unknown session: 404.",
            )
            .session_parameter()
            .success(204, Response::new("Successful Response"))
            .errors(Errors::new().unauthorized().not_found())
            .security(schemes),
        Op::new(Operation::User)
            .tag(TAG_USERS)
            .description("Superusers only. A malformed id is a 404, as an unknown one.")
            .id_parameter(integer_ids)
            .success(200, user())
            // FastAPI documents a 422 for every route with a parameter, though a
            // malformed id is a 404 in FastAPI Users and here.
            .errors(
                Errors::new()
                    .unauthorized()
                    .forbidden()
                    .not_found()
                    .validation(),
            )
            .security(schemes),
        Op::new(Operation::PatchUser)
            .tag(TAG_USERS)
            .description("Superusers only; the flags are applied.")
            .id_parameter(integer_ids)
            .body(&[(JSON, schemas::USER_UPDATE)])
            .success(200, user())
            .errors(
                update_errors()
                    .unauthorized()
                    .forbidden()
                    .not_found()
                    .validation(),
            )
            .security(schemes),
        Op::new(Operation::DeleteUser)
            .tag(TAG_USERS)
            .description("Superusers only.")
            .id_parameter(integer_ids)
            .success(204, Response::new("Successful Response"))
            .errors(
                Errors::new()
                    .unauthorized()
                    .forbidden()
                    .not_found()
                    .validation(),
            )
            .security(schemes),
    ]
}

/// FastAPI Users' OAuth login router for one route and backend.
#[cfg(feature = "oauth")]
fn oauth_operations(route: Arc<str>, backend: Arc<str>) -> Vec<Op> {
    vec![
        Op::new(Operation::OAuthAuthorize { route: Arc::clone(&route), backend: Arc::clone(&backend) })
        .description(
            "The provider's authorization URL (authorization code flow with PKCE S256 and a \
             nonce), and the CSRF cookie `fastapiusersoauthcsrf`. `scopes` (repeatable) \
             replaces the client's scopes; `openid` is always asked.",
        )
        .query("scopes", Query::Strings)
        .errors(Errors::new().validation())
        .success(
            200,
            json_response(
                "Successful Response",
                schemas::OAUTH_AUTHORIZE,
                Some(json!({"authorization_url": "https://idp.example.com/authorize?response_type=code&..."})),
            ),
        ),
        Op::new(Operation::OAuthCallback { route, backend })
        .description(
            "The provider sends the browser here with `code` and `state`. The state and \
             its cookie are checked first, and work once; the identity comes from the \
             verified ID token. Answers as the backend's login does. A `code_verifier` in \
             the query is ignored: the PKCE verifier is the server's own.",
        )
        .query("code", Query::Text)
        .query("state", Query::Text)
        .query("error", Query::Text)
        // FastAPI Users' route has no response model: any JSON, as FastAPI writes it.
        .success(200, any_json_response("Successful Response: the backend's login response"))
        .errors(
            Errors::new()
                .code(ErrorCode::AccessTokenDecodeError, "The state is not this application's.")
                .code(ErrorCode::AccessTokenAlreadyExpired, "The state expired.")
                .code(ErrorCode::OAuthInvalidState, "The CSRF cookie is missing, sent twice or not the one the state was made with (by this router), or the state was used.")
                .code(ErrorCode::OAuthNotAvailableEmail, "The provider gives no valid e-mail.")
                .code(ErrorCode::OAuthUserAlreadyExists, "A local account has this e-mail and may not be linked.")
                .code(ErrorCode::LoginBadCredentials, "The user is inactive.")
                .validation(),
        ),
    ]
}

/// FastAPI Users' OAuth associate router for one route.
#[cfg(feature = "oauth")]
fn oauth_associate_operations(route: Arc<str>, schemes: &[String]) -> Vec<Op> {
    vec![
        Op::new(Operation::AssociateAuthorize {
            route: Arc::clone(&route),
        })
        .description(
            "For a logged-in user: the provider's authorization URL and the CSRF cookie. With \
             `require_current_password`, a sign-in of the last five minutes: else 401 \
             `REAUTHENTICATION_REQUIRED` (`POST /auth/{backend}/reauthenticate`).",
        )
        .query("scopes", Query::Strings)
        .success(
            200,
            json_response("Successful Response", schemas::OAUTH_AUTHORIZE, None),
        )
        .errors(Errors::new().unauthorized().validation())
        .security(schemes),
        Op::new(Operation::AssociateCallback { route })
            .description(
                "Links the provider account to the logged-in user. An account linked to another \
             user is refused.",
            )
            .query("code", Query::Text)
            .query("state", Query::Text)
            .query("error", Query::Text)
            .success(
                200,
                json_response("Successful Response", schemas::USER_READ, None),
            )
            .errors(
                Errors::new()
                    .code(
                        ErrorCode::AccessTokenDecodeError,
                        "The state is not this application's.",
                    )
                    .code(ErrorCode::AccessTokenAlreadyExpired, "The state expired.")
                    .code(
                        ErrorCode::OAuthInvalidState,
                        "The CSRF cookie is missing, sent twice or not the one the state was made with (by this router), or the state was used.",
                    )
                    .code(
                        ErrorCode::OAuthNotAvailableEmail,
                        "The provider gives no valid e-mail.",
                    )
                    .code(
                        ErrorCode::OAuthAccountAlreadyLinked,
                        "The provider account is linked to another user.",
                    )
                    .unauthorized()
                    .validation(),
            )
            .security(schemes),
    ]
}

/// warden's own routes over the provider accounts linked to the current user.
#[cfg(feature = "oauth")]
fn oauth_account_operations(schemes: &[String]) -> Vec<Op> {
    vec![
        Op::new(Operation::OAuthAccounts)
            .tag(TAG_USERS)
            .description(
                "The provider accounts linked to the current user: provider, account id and \
                 the e-mail the provider gave; never the provider's tokens.",
            )
            .success(
                200,
                json_array_response("Successful Response", schemas::OAUTH_ACCOUNT_READ),
            )
            .errors(Errors::new().unauthorized())
            .security(schemes),
        Op::new(Operation::DeleteOAuthAccount)
            .tag(TAG_USERS)
            .description(
                "Unlinks one of the current user's provider accounts. Refused while it is the \
                 user's last way in (no password, no other linked account): set a password \
                 first (forgot-password). Another user's or an unknown account: 404.",
            )
            .oauth_account_parameters()
            .success(204, Response::new("Successful Response"))
            .errors(
                Errors::new()
                    .code(
                        ErrorCode::OAuthAccountLastSignIn,
                        "It is the user's last way in.",
                    )
                    .unauthorized()
                    .not_found(),
            )
            .security(schemes),
    ]
}

/// warden's own routes over the current user's second factor, and a superuser's
/// reset of a user's.
fn two_factor_operations(schemes: &[String], integer_ids: bool) -> Vec<Op> {
    let codes = || json_response("Successful Response", schemas::RECOVERY_CODES, None);
    vec![
        Op::new(Operation::TwoFactor)
            .tag(TAG_USERS)
            .description(
                "Where the current user's second factor stands: on or off, a new secret \
                 awaiting confirmation, recovery codes left, and whether the application \
                 requires one of this user. Served to a session that must enrol first.",
            )
            .success(
                200,
                json_response("Successful Response", schemas::TWO_FACTOR_STATUS, None),
            )
            .errors(Errors::new().unauthorized())
            .security(schemes),
        Op::new(Operation::EnrolTotp)
            .tag(TAG_USERS)
            .description(
                "A new TOTP secret (RFC 6238: SHA-1, 6 digits, 30 s), shown once: base32 \
                 `secret`, the `otpauth_uri` an authenticator app scans, and the QR code as \
                 `qr_svg`. Nothing changes until a code from it is confirmed; an enabled \
                 secret keeps working meanwhile. Needs a sign-in of the last 5 minutes \
                 (401 `REAUTHENTICATION_REQUIRED` otherwise).",
            )
            .success(
                200,
                json_response("Successful Response", schemas::TOTP_ENROLMENT, None),
            )
            .errors(Errors::new().unauthorized())
            .security(schemes),
        Op::new(Operation::ConfirmTotp)
            .tag(TAG_USERS)
            .description(
                "A code from the new secret turns two-factor authentication on and answers \
                 ten single-use recovery codes, shown this once. The session that confirms \
                 counts as one that passed a second factor.",
            )
            .body(&[(JSON, schemas::TWO_FACTOR_CODE)])
            .success(200, codes())
            .errors(
                Errors::new()
                    .code(ErrorCode::TwoFactorBadCode, "The code does not check.")
                    .code(
                        ErrorCode::TwoFactorNotEnabled,
                        "No secret awaits confirmation.",
                    )
                    .unauthorized()
                    .validation(),
            )
            .security(schemes),
        Op::new(Operation::RecoveryCodes)
            .tag(TAG_USERS)
            .description(
                "New recovery codes replace the old ones; a code from the app is required.",
            )
            .body(&[(JSON, schemas::TWO_FACTOR_CODE)])
            .success(200, codes())
            .errors(
                Errors::new()
                    .code(ErrorCode::TwoFactorBadCode, "The code does not check.")
                    .code(
                        ErrorCode::TwoFactorNotEnabled,
                        "Two-factor authentication is off.",
                    )
                    .unauthorized()
                    .validation(),
            )
            .security(schemes),
        Op::new(Operation::DisableTwoFactor)
            .tag(TAG_USERS)
            .description(
                "Turns two-factor authentication off, with its recovery codes and remembered \
                 devices. Needs a code or a recovery code, and the `password` or, without \
                 one, a sign-in of the last 5 minutes.",
            )
            .body(&[(JSON, schemas::TWO_FACTOR_DISABLE)])
            .success(204, Response::new("Successful Response"))
            .errors(
                Errors::new()
                    .code(ErrorCode::TwoFactorBadCode, "The code does not check.")
                    .code(
                        ErrorCode::TwoFactorNotEnabled,
                        "Two-factor authentication is off.",
                    )
                    .code(
                        ErrorCode::UpdateUserBadCurrentPassword,
                        "The password is wrong.",
                    )
                    .unauthorized()
                    .validation(),
            )
            .security(schemes),
        Op::new(Operation::ForgetDevices)
            .tag(TAG_USERS)
            .description("Every browser remembered after a second factor asks for a code again.")
            .success(204, Response::new("Successful Response"))
            .errors(Errors::new().unauthorized())
            .security(schemes),
        Op::new(Operation::ResetTwoFactor)
            .tag(TAG_USERS)
            .description(
                "Superusers only: turns the user's second factor off (a user who lost both \
                 the app and the recovery codes) and ends their sessions on every instance.",
            )
            .id_parameter(integer_ids)
            .success(204, Response::new("Successful Response"))
            .errors(Errors::new().unauthorized().forbidden().not_found())
            .security(schemes),
    ]
}

/// The audit trail's routes: warden's own, where FastAPI Users has none.
fn audit_operations(schemes: &[String], integer_ids: bool) -> Vec<Op> {
    let page = "Newest first, at most `limit` (1 to 100, default 50); `before` is the `id` \
                of the last event seen, for the next page. Each event says when, what and \
                from which client address and user agent (when the event names the client); \
                never a secret.";
    vec![
        Op::new(Operation::SecurityEvents)
            .tag(TAG_USERS)
            .description(format!(
                "The current user's recent sign-ins and account changes (the audit trail). {page}"
            ))
            .query("limit", Query::Integer)
            .query("before", Query::Integer)
            .success(
                200,
                json_array_response("Successful Response", schemas::SECURITY_EVENT_READ),
            )
            .errors(Errors::new().unauthorized().validation())
            .security(schemes),
        Op::new(Operation::UserSecurityEvents)
            .tag(TAG_USERS)
            .description(format!(
                "Superusers only: a user's recent sign-ins and account changes. {page}"
            ))
            .id_parameter(integer_ids)
            .query("limit", Query::Integer)
            .query("before", Query::Integer)
            .success(
                200,
                json_array_response("Successful Response", schemas::SECURITY_EVENT_READ),
            )
            .errors(
                Errors::new()
                    .unauthorized()
                    .forbidden()
                    .not_found()
                    .validation(),
            )
            .security(schemes),
    ]
}

/// `GET /.well-known/jwks.json`: warden's own, where FastAPI Users has none.
fn jwks_operations() -> Vec<Op> {
    vec![
        Op::new(Operation::Jwks)
            .description(
                "The public keys that verify this service's tokens (RFC 7517), each with its \
                 `kid`, the RFC 7638 thumbprint that tokens name in their header: the signing \
                 key first, then keys rotating in or out. Never a private key or an HMAC secret.",
            )
            .success(
                200,
                json_response("Successful Response", schemas::JWK_SET, None),
            ),
    ]
}

/// Every operation of `spec`, in FastAPI Users' order: auth per backend, OAuth,
/// register, reset, verify, users, then warden's JWKS; those whose
/// [`Switch`](super::operation::Switch) `spec` turns off are left out. The one
/// place that decides which routes exist, and at which path.
pub(crate) fn operations(spec: &ApiSpec, schemes: &[String]) -> Vec<Op> {
    let mut ops = Vec::new();
    for (backend, scheme) in spec.backends.iter().zip(schemes) {
        // An API key backend signs no one in: no login, logout or refresh.
        if !backend.api_key {
            ops.extend(auth_operations(backend, scheme, spec.two_factor));
        }
        ops.push(admin::stop_impersonating(backend, scheme));
    }
    #[cfg(feature = "oauth")]
    for (route, backend) in &spec.oauth {
        let route: Arc<str> = Arc::from(route.as_str());
        ops.extend(match backend {
            Some(backend) => oauth_operations(route, Arc::from(backend.as_str())),
            None => oauth_associate_operations(route, schemes),
        });
    }
    ops.extend(register_operations());
    ops.extend(reset_operations());
    ops.extend(verify_operations());
    ops.extend(users_operations(schemes, spec.integer_ids));
    ops.extend(admin::operations(schemes, spec.integer_ids));
    #[cfg(feature = "oauth")]
    if !spec.oauth.is_empty() {
        ops.extend(oauth_account_operations(schemes));
    }
    ops.extend(two_factor_operations(schemes, spec.integer_ids));
    ops.extend(audit_operations(schemes, spec.integer_ids));
    ops.extend(jwks_operations());
    #[cfg(feature = "passkeys")]
    ops.extend(passkeys::operations(spec, schemes));
    ops.extend(api_keys::operations(spec, schemes));
    ops.retain(|op| spec.serves(op.operation.switch()));
    for op in &mut ops {
        if let Some(path) = spec.paths.get(&op.operation.to_string()) {
            op.path.clone_from(path);
        }
        for (code, _, detail) in &mut op.errors.bad_request {
            let text = Value::from(spec.error_texts.text(*code));
            match detail {
                Value::Object(fields) => {
                    fields.insert("code".into(), text);
                }
                detail => *detail = text,
            }
        }
    }
    ops
}

/// The operations as the document's paths.
pub(super) fn paths(ops: Vec<Op>) -> Paths {
    ops.into_iter()
        .map(Op::into_path_item)
        .fold(PathsBuilder::new(), |paths, (path, item)| {
            paths.path(path, item)
        })
        .build()
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn operation_ids_are_fastapi_unique_ids() {
        use super::operation_id;
        assert_eq!(
            operation_id("auth:jwt.login", "/auth/jwt/login", "POST"),
            "auth_jwt_login_auth_jwt_login_post"
        );
        assert_eq!(
            operation_id("users:user", "/users/{id}", "GET"),
            "users_user_users__id__get"
        );
        assert_eq!(
            operation_id("verify:request-token", "/auth/request-verify-token", "POST"),
            "verify_request_token_auth_request_verify_token_post"
        );
        // A route served at the application's own path: FastAPI would use that path.
        assert_eq!(
            operation_id("auth:jwt.login", "/login", "POST"),
            "auth_jwt_login_login_post"
        );
    }

    #[test]
    fn summaries_are_fastapi_titles() {
        assert_eq!(summary("auth:jwt.login"), "Auth:Jwt.Login");
        assert_eq!(summary("users:current_user"), "Users:Current User");
        assert_eq!(summary("verify:request-token"), "Verify:Request-Token");
        assert_eq!(
            summary("auth:my_backend2.refresh"),
            "Auth:My Backend2.Refresh"
        );
    }
}
