//! The document's component schemas: FastAPI Users' models (`UserRead`, `UserCreate`,
//! `UserUpdate`, `BearerResponse`, `ErrorModel`), FastAPI's `HTTPValidationError`, and
//! the request bodies of the auth, reset and verify routes.

use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use super::ApiSpec;
use crate::model::{Field, FieldKind};

pub(super) const USER_READ: &str = "UserRead";
pub(super) const USER_CREATE: &str = "UserCreate";
pub(super) const USER_UPDATE: &str = "UserUpdate";
pub(super) const BEARER_RESPONSE: &str = "BearerResponse";
pub(super) const ERROR_MODEL: &str = "ErrorModel";
pub(super) const HTTP_VALIDATION_ERROR: &str = "HTTPValidationError";
pub(super) const VALIDATION_ERROR: &str = "ValidationError";
pub(super) const LOGIN_FORM: &str = "OAuth2PasswordRequestForm";
pub(super) const LOGIN_JSON: &str = "LoginCredentials";
pub(super) const FORGOT_PASSWORD: &str = "ForgotPasswordRequest";
pub(super) const RESET_PASSWORD: &str = "ResetPasswordRequest";
pub(super) const REQUEST_VERIFY_TOKEN: &str = "RequestVerifyTokenRequest";
pub(super) const VERIFY: &str = "VerifyRequest";
pub(super) const JWK_SET: &str = "JwkSet";
pub(super) const SESSION_READ: &str = "SessionRead";
pub(super) const SECURITY_EVENT_READ: &str = "SecurityEventRead";
pub(super) const OAUTH_ACCOUNT_READ: &str = "OAuthAccountRead";
pub(super) const OAUTH_AUTHORIZE: &str = "OAuth2AuthorizeResponse";
pub(super) const REFRESH_REQUEST: &str = "RefreshTokenRequest";
pub(super) const REAUTHENTICATE_REQUEST: &str = "ReauthenticateRequest";
pub(super) const MFA_REQUIRED: &str = "MfaRequired";
pub(super) const SECOND_FACTOR: &str = "SecondFactorRequest";
pub(super) const TWO_FACTOR_STATUS: &str = "TwoFactorStatus";
pub(super) const TOTP_ENROLMENT: &str = "TotpEnrolment";
pub(super) const TWO_FACTOR_CODE: &str = "TwoFactorCode";
pub(super) const RECOVERY_CODES: &str = "RecoveryCodes";
pub(super) const TWO_FACTOR_DISABLE: &str = "TwoFactorDisable";

/// `#/components/schemas/{name}`.
pub(super) fn reference(name: &str) -> RefOr<Schema> {
    Ref::from_schema_name(name).into()
}

fn typed(schema_type: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(schema_type)
}

fn string() -> ObjectBuilder {
    typed(Type::String)
}

fn email() -> ObjectBuilder {
    string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
}

/// `format: password`, as FastAPI's `OAuth2PasswordRequestForm` marks its secrets.
/// FastAPI Users' own models (`UserCreate`, `UserUpdate`, the reset body) declare a
/// plain `str`, so they use [`string`].
fn password() -> ObjectBuilder {
    string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
}

fn boolean() -> ObjectBuilder {
    typed(Type::Boolean)
}

fn null() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Null)
}

/// `anyOf: [schema, {type: null}]`, FastAPI's spelling of `Optional[...]` in 3.1.
fn optional(schema: ObjectBuilder, default: Option<serde_json::Value>) -> Schema {
    AnyOfBuilder::new()
        .item(schema)
        .item(null())
        .default(default)
        .build()
        .into()
}

fn object(title: &str) -> ObjectBuilder {
    typed(Type::Object).title(Some(title))
}

/// The schema of a model field's type.
fn field_schema(field: &Field) -> ObjectBuilder {
    let schema = match field.kind {
        // Only reached by a roles field's names: `roles_schema` is its list.
        FieldKind::Text | FieldKind::Roles(_) => string(),
        FieldKind::Bool => boolean(),
        FieldKind::Integer => typed(Type::Integer),
        FieldKind::Float => typed(Type::Number),
    };
    schema.title(Some(title(field.name)))
}

/// pydantic's title of a field: `first_name` → `First Name`.
fn title(name: &str) -> String {
    name.split('_')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn default_of(field: &Field) -> Option<serde_json::Value> {
    field
        .default
        .and_then(|json| serde_json::from_str(json).ok())
}

/// A model field as a property: `anyOf [T, null]` when nullable (or, with
/// `optional_all`, always: every update field may be left out).
fn field_property(field: &Field, optional_all: bool) -> RefOr<Schema> {
    if let FieldKind::Roles(names) = field.kind {
        return RefOr::T(roles_schema(field.name, names).into());
    }
    let default = if optional_all {
        None
    } else {
        default_of(field)
    };
    if field.nullable || optional_all {
        RefOr::T(optional(field_schema(field), default))
    } else {
        RefOr::T(field_schema(field).default(default).build().into())
    }
}

/// A roles field: a list of the role names, each once.
fn roles_schema(name: &str, names: &[&str]) -> ArrayBuilder {
    ArrayBuilder::new()
        .title(Some(title(name)))
        .items(string().enum_values(Some(names.iter().copied())))
        .unique_items(true)
        .default(Some(serde_json::Value::Array(Vec::new())))
}

fn id_schema(integer: bool) -> ObjectBuilder {
    if integer {
        typed(Type::Integer)
    } else {
        string().format(Some(SchemaFormat::Custom("uuid".into())))
    }
}

fn user_read(spec: &ApiSpec) -> Schema {
    let mut schema = object(USER_READ)
        .description(Some("A user as the API shows it: never the password hash."))
        .property("id", id_schema(spec.integer_ids))
        .required("id");
    if spec.email {
        schema = schema.property("email", email()).required("email");
    }
    schema = schema
        .property("is_active", boolean().default(Some(true.into())))
        .property("is_superuser", boolean().default(Some(false.into())))
        .property("is_verified", boolean().default(Some(false.into())));
    for field in spec.fields.iter().filter(|f| f.read) {
        schema = schema.property(field.name, field_property(field, false));
        if !field.nullable {
            schema = schema.required(field.name);
        }
    }
    schema.build().into()
}

fn user_create(spec: &ApiSpec) -> Schema {
    let mut schema = object(USER_CREATE).description(Some(
        "A new user. On `POST /auth/register` the flags are ignored, as in FastAPI Users.",
    ));
    if spec.email {
        schema = schema.property("email", email()).required("email");
    }
    schema = schema
        .property("password", string())
        .property("is_active", optional(boolean(), Some(true.into())))
        .property("is_superuser", optional(boolean(), Some(false.into())))
        .property("is_verified", optional(boolean(), Some(false.into())))
        .required("password");
    for field in spec.fields.iter().filter(|f| f.create) {
        schema = schema.property(field.name, field_property(field, false));
        if !field.nullable && field.default.is_none() {
            schema = schema.required(field.name);
        }
    }
    schema.build().into()
}

fn user_update(spec: &ApiSpec) -> Schema {
    let mut schema = object(USER_UPDATE)
        .description(Some(
            "Fields to change; absent fields are kept. On `PATCH /users/me` the flags are \
             ignored; a superuser's `PATCH /users/{id}` applies them.",
        ))
        .property("password", optional(string(), None));
    if spec.email {
        schema = schema.property("email", optional(email(), None));
    }
    if spec.current_password {
        // Required with a new password, e-mail or login on `PATCH /users/me`.
        schema = schema.property("current_password", optional(string(), None));
    }
    schema = schema
        .property("is_active", optional(boolean(), None))
        .property("is_superuser", optional(boolean(), None))
        .property("is_verified", optional(boolean(), None));
    for field in spec.fields.iter().filter(|f| f.update) {
        schema = schema.property(field.name, field_property(field, true));
    }
    // Roles are the superuser's to give: ignored on `PATCH /users/me`, as the flags.
    for field in spec.fields.iter() {
        if let FieldKind::Roles(names) = field.kind {
            schema = schema.property(
                field.name,
                AnyOfBuilder::new()
                    .item(roles_schema(field.name, names))
                    .item(null())
                    .description(Some(
                        "The user's roles, all of them (superusers only: ignored on \
                         `PATCH /users/me`).",
                    )),
            );
        }
    }
    schema.build().into()
}

fn reauthenticate_request() -> Schema {
    object(REAUTHENTICATE_REQUEST)
        .description(Some(
            "The signed-in user's password again (form or JSON); `username`, if given, must \
             be their own login. RFC 9470 step-up: the session is signed anew.",
        ))
        .property(
            "grant_type",
            optional(string().pattern(Some("^password$")), None),
        )
        .property("username", optional(string(), None))
        .property("password", password())
        .required("password")
        .build()
        .into()
}

fn login_form() -> Schema {
    object(LOGIN_FORM)
        .description(Some(
            "OAuth2's password grant form (RFC 6749 §4.3.2), as FastAPI's \
             `OAuth2PasswordRequestForm`. `username` is the e-mail.",
        ))
        .property(
            "grant_type",
            optional(string().pattern(Some("^password$")), None),
        )
        .property("username", string())
        .property("password", password())
        .property("scope", string().default(Some("".into())))
        .property("client_id", optional(string(), None))
        .property("client_secret", optional(password(), None))
        .required("username")
        .required("password")
        .build()
        .into()
}

// The bodies that do not depend on the user model or the configuration, derived.
// They document the wire format only (the handlers read the bodies themselves), so
// their fields are never read; [`named`] gives each its document name as title.

// `BearerResponse`: what a bearer login answers.
#[derive(ToSchema)]
#[allow(dead_code)]
struct BearerResponse {
    access_token: String,
    token_type: String,
    /// On backends with refresh tokens: opaque, single use (RFC 6749 §6).
    #[schema(required = false)]
    refresh_token: String,
    /// Seconds the access token lives.
    #[schema(required = false)]
    expires_in: isize,
}

// FastAPI Users' `ErrorModel`.
#[derive(ToSchema)]
#[schema(
    description = "`{\"detail\": \"<ERROR_CODE>\"}`, or `{\"detail\": {\"code\", \"reason\"}}` for a refused password, or `{\"detail\": {\"code\", \"until\"}}` for a banned user."
)]
#[allow(dead_code)]
struct ErrorModel {
    #[schema(schema_with = error_detail)]
    detail: (),
}

/// `detail`: a code, or a code and the reason a password was refused, or a code
/// and the end of a ban (`null`: until lifted).
fn error_detail() -> AnyOfBuilder {
    AnyOfBuilder::new()
        .item(string())
        .item(
            object("ErrorDetail")
                .property("code", string())
                .property("reason", string())
                .required("code")
                .required("reason"),
        )
        .item(
            object("BanDetail")
                .property("code", string())
                .property(
                    "until",
                    typed(Type::String)
                        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                            Type::String,
                            Type::Null,
                        ]))
                        .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                            utoipa::openapi::schema::KnownFormat::DateTime,
                        ))),
                )
                .required("code")
                .required("until"),
        )
}

// FastAPI's `HTTPValidationError`.
#[derive(ToSchema)]
#[schema(description = "One entry per problem. The submitted input is never echoed.")]
#[allow(dead_code)]
struct HTTPValidationError {
    #[schema(required = false)]
    detail: Vec<ValidationError>,
}

// FastAPI's `ValidationError`: one problem of a request.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ValidationError {
    #[schema(schema_with = location)]
    loc: (),
    msg: String,
    r#type: String,
}

/// Where the problem is: `["body", "password"]`, or an index in a list.
fn location() -> ArrayBuilder {
    ArrayBuilder::new().items(
        AnyOfBuilder::new()
            .item(string())
            .item(typed(Type::Integer)),
    )
}

// The login form's two required fields, as JSON.
#[derive(ToSchema)]
#[schema(description = "The login form's two required fields, as JSON.")]
#[allow(dead_code)]
struct LoginCredentials {
    username: String,
    #[schema(format = Password)]
    password: String,
}

// `ForgotPasswordRequest` and `RequestVerifyTokenRequest`: an e-mail address.
#[derive(ToSchema)]
#[allow(dead_code)]
struct EmailRequest {
    #[schema(format = Email)]
    email: String,
}

// `ResetPasswordRequest`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ResetPasswordRequest {
    token: String,
    password: String,
}

// `VerifyRequest`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct VerifyRequest {
    token: String,
}

// `OAuth2AuthorizeResponse`: where to send the browser.
#[derive(ToSchema)]
#[allow(dead_code)]
struct OAuth2AuthorizeResponse {
    authorization_url: String,
}

// `SessionRead`: one of the current user's logins.
#[derive(ToSchema)]
#[schema(description = "A login: its tokens end with it. `current` marks the request's own.")]
#[allow(dead_code)]
struct SessionRead {
    id: String,
    backend: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    last_used_at: String,
    #[schema(format = DateTime, required = false)]
    expires_at: String,
    #[schema(required = false)]
    user_agent: String,
    current: bool,
    /// The superuser acting as the user (an impersonation session), by id;
    /// `null` for the user's own sessions.
    impersonated_by: Option<String>,
}

// `SecurityEventRead`: one event of the audit trail.
#[derive(ToSchema)]
#[schema(
    description = "A security event of the user's: when, what (`sign_in`, `password_changed`, ...) and from which client, when the event names it."
)]
#[allow(dead_code)]
struct SecurityEventRead {
    id: i64,
    #[schema(format = DateTime)]
    at: String,
    kind: String,
    #[schema(required = false)]
    client_address: String,
    #[schema(required = false)]
    user_agent: String,
}

// `OAuthAccountRead`: a provider account linked to the current user.
#[derive(ToSchema)]
#[schema(
    description = "A provider account linked to the user: FastAPI Users' `oauth_account` row without the provider's tokens."
)]
#[allow(dead_code)]
struct OAuthAccountRead {
    oauth_name: String,
    account_id: String,
    account_email: String,
}

// `RefreshTokenRequest`.
#[derive(ToSchema)]
#[schema(
    description = "RFC 6749 §6: a refresh token for a new pair (form or JSON). Without it, a valid access token in `Authorization` buys a fresh one of the same login."
)]
#[allow(dead_code)]
struct RefreshTokenRequest {
    #[schema(required = false)]
    grant_type: String,
    refresh_token: String,
}

// RFC 7517 §5: `{"keys": [JWK, ...]}`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct JwkSet {
    #[schema(inline)]
    keys: Vec<Jwk>,
}

// One public key of the set.
#[derive(ToSchema)]
#[schema(
    title = "Jwk",
    description = "A public key (RFC 7517): `kty` and its public parameters (`n`, `e` for RSA; `crv`, `x`, `y` for EC; `crv`, `x` for OKP), never a private one."
)]
#[allow(dead_code)]
struct Jwk {
    kty: String,
    kid: String,
    #[schema(required = false)]
    alg: String,
    #[schema(required = false)]
    r#use: String,
}

// The login's 403 when the user has a second factor.
#[derive(ToSchema)]
#[schema(
    description = "Auth0's `mfa_required` convention: the first factor was right; answer the `mfa_token` with a code."
)]
#[allow(dead_code)]
struct MfaRequired {
    detail: String,
    error: String,
    mfa_token: String,
}

// The second step's body (form or JSON).
#[derive(ToSchema)]
#[schema(
    description = "The `mfa_token` and one of `code` (or `otp`, Auth0's name) and `recovery_code`."
)]
#[allow(dead_code)]
struct SecondFactorRequest {
    mfa_token: String,
    #[schema(required = false)]
    code: String,
    #[schema(required = false)]
    otp: String,
    #[schema(required = false)]
    recovery_code: String,
    /// On a cookie backend, when the application allows it: skip the code on this
    /// browser's next sign-ins.
    #[schema(required = false)]
    remember_device: bool,
}

// Where the current user's second factor stands.
#[derive(ToSchema)]
#[allow(dead_code)]
struct TwoFactorStatus {
    enabled: bool,
    /// `["totp"]` when on.
    methods: Vec<String>,
    /// A new secret awaits confirmation.
    pending: bool,
    recovery_codes_left: usize,
    /// The application requires a second factor of this user.
    required: bool,
}

// A new TOTP secret, shown once.
#[derive(ToSchema)]
#[allow(dead_code)]
struct TotpEnrolment {
    /// Base32 (RFC 4648), for typing into an app.
    secret: String,
    /// `otpauth://totp/...`: what a QR code carries.
    otpauth_uri: String,
    /// The QR code as an SVG document; null without warden's `qr` feature.
    #[schema(required = false)]
    qr_svg: String,
}

// A code from the authenticator app.
#[derive(ToSchema)]
#[allow(dead_code)]
struct TwoFactorCode {
    code: String,
}

// Recovery codes, shown once.
#[derive(ToSchema)]
#[allow(dead_code)]
struct RecoveryCodes {
    recovery_codes: Vec<String>,
}

// What turning the second factor off takes.
#[derive(ToSchema)]
#[schema(
    description = "`code` or `recovery_code`; `password`, or else a sign-in of the last 5 minutes."
)]
#[allow(dead_code)]
struct TwoFactorDisable {
    #[schema(required = false)]
    code: String,
    #[schema(required = false)]
    recovery_code: String,
    #[schema(required = false, format = Password)]
    password: String,
}

/// `T`'s derived schema, titled `name` as pydantic titles its models (the derive
/// leaves the title out, and names the schema after the Rust type).
fn named<T: PartialSchema>(name: &str) -> RefOr<Schema> {
    let mut schema = T::schema();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.title = Some(name.to_owned());
    }
    schema
}

/// Every schema the document refers to, by name.
pub(super) fn components(spec: &ApiSpec) -> Vec<(&'static str, RefOr<Schema>)> {
    let (reset_password_router, verify_router) = (spec.reset_password, spec.verify);
    let mut schemas = vec![
        (BEARER_RESPONSE, named::<BearerResponse>(BEARER_RESPONSE)),
        (ERROR_MODEL, named::<ErrorModel>(ERROR_MODEL)),
        (
            HTTP_VALIDATION_ERROR,
            named::<HTTPValidationError>(HTTP_VALIDATION_ERROR),
        ),
        (LOGIN_FORM, login_form().into()),
        (LOGIN_JSON, named::<LoginCredentials>(LOGIN_JSON)),
        (VALIDATION_ERROR, named::<ValidationError>(VALIDATION_ERROR)),
    ];
    // The user schemas only with a router that uses them.
    if spec.register {
        schemas.push((USER_CREATE, user_create(spec).into()));
    }
    if spec.register || spec.users || spec.oauth.iter().any(|(_, backend)| backend.is_none()) {
        schemas.push((USER_READ, user_read(spec).into()));
    }
    if spec.users {
        schemas.push((USER_UPDATE, user_update(spec).into()));
    }
    if spec.jwks {
        schemas.push((JWK_SET, named::<JwkSet>(JWK_SET)));
    }
    if spec.users {
        schemas.push((SESSION_READ, named::<SessionRead>(SESSION_READ)));
        schemas.extend(super::paths::admin::schemas());
    }
    schemas.push((
        REFRESH_REQUEST,
        named::<RefreshTokenRequest>(REFRESH_REQUEST),
    ));
    schemas.push((REAUTHENTICATE_REQUEST, reauthenticate_request().into()));
    if spec.users && !spec.oauth.is_empty() {
        schemas.push((
            OAUTH_ACCOUNT_READ,
            named::<OAuthAccountRead>(OAUTH_ACCOUNT_READ),
        ));
    }
    if !spec.oauth.is_empty() {
        schemas.push((
            OAUTH_AUTHORIZE,
            named::<OAuth2AuthorizeResponse>(OAUTH_AUTHORIZE),
        ));
    }
    if spec.audit_trail {
        schemas.push((
            SECURITY_EVENT_READ,
            named::<SecurityEventRead>(SECURITY_EVENT_READ),
        ));
    }
    if spec.two_factor {
        schemas.push((MFA_REQUIRED, named::<MfaRequired>(MFA_REQUIRED)));
        schemas.push((SECOND_FACTOR, named::<SecondFactorRequest>(SECOND_FACTOR)));
        schemas.push((
            TWO_FACTOR_STATUS,
            named::<TwoFactorStatus>(TWO_FACTOR_STATUS),
        ));
        schemas.push((TOTP_ENROLMENT, named::<TotpEnrolment>(TOTP_ENROLMENT)));
        schemas.push((TWO_FACTOR_CODE, named::<TwoFactorCode>(TWO_FACTOR_CODE)));
        schemas.push((RECOVERY_CODES, named::<RecoveryCodes>(RECOVERY_CODES)));
        schemas.push((
            TWO_FACTOR_DISABLE,
            named::<TwoFactorDisable>(TWO_FACTOR_DISABLE),
        ));
    }
    if reset_password_router {
        schemas.push((FORGOT_PASSWORD, named::<EmailRequest>(FORGOT_PASSWORD)));
        schemas.push((
            RESET_PASSWORD,
            named::<ResetPasswordRequest>(RESET_PASSWORD),
        ));
    }
    #[cfg(feature = "passkeys")]
    if spec.passkeys {
        schemas.extend(super::paths::passkeys::schemas());
    }
    if spec.backends.iter().any(|backend| backend.api_key) {
        schemas.extend(super::paths::api_keys::schemas());
    }
    if verify_router {
        schemas.push((
            REQUEST_VERIFY_TOKEN,
            named::<EmailRequest>(REQUEST_VERIFY_TOKEN),
        ));
        schemas.push((VERIFY, named::<VerifyRequest>(VERIFY)));
    }
    schemas
}
