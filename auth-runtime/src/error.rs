//! Errors: FastAPI Users' error codes as HTTP responses and configuration errors
//! that stop startup. A leaf: each conversion from a lower layer's error lives
//! beside that error (`StoreError`, `StrategyError`), so nothing here imports
//! upward.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// FastAPI Users' `ErrorCode` (`router/common.py`), sent as `{"detail": "<CODE>"}`
/// unless the application gives a code a text of its own ([`ErrorTexts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `POST /auth/register`: the password hook refused the password.
    RegisterInvalidPassword,
    /// `POST /auth/register`: the e-mail is taken (case-insensitively).
    RegisterUserAlreadyExists,
    /// Login: unknown user, wrong password or inactive user, indistinguishably.
    LoginBadCredentials,
    /// Login when the backend requires verified users.
    LoginUserNotVerified,
    /// Reset password: bad, expired or already used token.
    ResetPasswordBadToken,
    /// Reset password: the password hook refused the new password.
    ResetPasswordInvalidPassword,
    /// Verify: bad or expired token.
    VerifyUserBadToken,
    /// Verify: the user is verified already.
    VerifyUserAlreadyVerified,
    /// `PATCH /users/...`: the new e-mail is taken.
    UpdateUserEmailAlreadyExists,
    /// `PATCH /users/...`: the password hook refused the new password.
    UpdateUserInvalidPassword,
    /// `PATCH /users/me` with `require_current_password`: the current password given
    /// is wrong (warden's own code).
    UpdateUserBadCurrentPassword,
    /// OAuth callback: the state is not a state of this application.
    AccessTokenDecodeError,
    /// OAuth callback: the state expired.
    AccessTokenAlreadyExpired,
    /// OAuth callback: the CSRF cookie is missing, differs, or the state was used.
    OAuthInvalidState,
    /// OAuth callback: the provider gives no (valid) e-mail.
    OAuthNotAvailableEmail,
    /// OAuth callback: a local account has the provider's e-mail and may not be
    /// linked to it.
    OAuthUserAlreadyExists,
    /// OAuth associate callback: the provider account is linked to another user
    /// (warden's own code: FastAPI Users links it twice, then answers 500).
    OAuthAccountAlreadyLinked,
    /// `DELETE /users/me/oauth-accounts/...`: the account is the user's last way in
    /// (no usable password, no other linked account); warden's own code.
    OAuthAccountLastSignIn,
    /// A route guarded with `fresh = N` met a sign-in older than N seconds (warden's
    /// own code, 401 with RFC 9470's challenge): sign in again, or
    /// `POST /auth/{name}/reauthenticate`.
    ReauthenticationRequired,
    /// Login: the password (or provider) was right and the user has a second
    /// factor: answered 403 with an `mfa_token` for the second step (warden's own).
    Login2faRequired,
    /// The second step: the `mfa_token` is unknown, expired, used, out of tries,
    /// of another backend or of another browser (warden's own).
    Login2faBadToken,
    /// The second step: the code or recovery code does not check (warden's own).
    Login2faBadCode,
    /// A user the policy requires a second factor of, signed in without one: only
    /// enrolment and a few reads are served (403; warden's own).
    TwoFactorEnrolmentRequired,
    /// Managing the second factor: the code does not check (warden's own).
    TwoFactorBadCode,
    /// Managing the second factor: it is not on, or nothing awaits confirmation
    /// (warden's own).
    TwoFactorNotEnabled,
    /// Passkeys: the ceremony's challenge is unknown, used, or older than five
    /// minutes (warden's own code): ask for new options.
    PasskeyChallengeInvalid,
    /// Passkeys: the browser's origin is none of the configured origins.
    PasskeyOriginMismatch,
    /// Passkeys: the authenticator signed for another RP ID.
    PasskeyRpIdMismatch,
    /// Passkeys: the authenticator did not verify the user (PIN or biometric).
    PasskeyUserVerificationRequired,
    /// Passkeys: the credential does not verify (a bad signature, a counter that
    /// went backwards, a malformed credential).
    PasskeyInvalid,
    /// Passkeys: this credential is registered already.
    PasskeyAlreadyRegistered,
    /// Passkeys: deleting it would leave the user no way in.
    PasskeyLastSignIn,
    /// Login with the right credential of a banned user (warden's own code): 400
    /// `{"detail": {"code": "LOGIN_USER_BANNED", "until": <RFC 3339> | null}}`.
    LoginUserBanned,
    /// `POST /users/{id}/ban` of a superuser (warden's own code): demote first.
    BanSuperuser,
    /// `POST /users/{id}/impersonate` of a superuser (warden's own code).
    ImpersonateSuperuser,
    /// An impersonation session at a route that changes credentials or asks a
    /// fresh sign-in or a second factor (warden's own code, 403).
    ImpersonationForbidden,
    /// `POST /auth/{name}/stop-impersonating` from a session that is no
    /// impersonation (warden's own code).
    NotImpersonating,
}

impl ErrorCode {
    /// The code as FastAPI Users spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RegisterInvalidPassword => "REGISTER_INVALID_PASSWORD",
            Self::RegisterUserAlreadyExists => "REGISTER_USER_ALREADY_EXISTS",
            Self::LoginBadCredentials => "LOGIN_BAD_CREDENTIALS",
            Self::LoginUserNotVerified => "LOGIN_USER_NOT_VERIFIED",
            Self::ResetPasswordBadToken => "RESET_PASSWORD_BAD_TOKEN",
            Self::ResetPasswordInvalidPassword => "RESET_PASSWORD_INVALID_PASSWORD",
            Self::VerifyUserBadToken => "VERIFY_USER_BAD_TOKEN",
            Self::VerifyUserAlreadyVerified => "VERIFY_USER_ALREADY_VERIFIED",
            Self::UpdateUserEmailAlreadyExists => "UPDATE_USER_EMAIL_ALREADY_EXISTS",
            Self::UpdateUserInvalidPassword => "UPDATE_USER_INVALID_PASSWORD",
            Self::UpdateUserBadCurrentPassword => "UPDATE_USER_BAD_CURRENT_PASSWORD",
            Self::AccessTokenDecodeError => "ACCESS_TOKEN_DECODE_ERROR",
            Self::AccessTokenAlreadyExpired => "ACCESS_TOKEN_ALREADY_EXPIRED",
            Self::OAuthInvalidState => "OAUTH_INVALID_STATE",
            Self::OAuthNotAvailableEmail => "OAUTH_NOT_AVAILABLE_EMAIL",
            Self::OAuthUserAlreadyExists => "OAUTH_USER_ALREADY_EXISTS",
            Self::OAuthAccountAlreadyLinked => "OAUTH_ACCOUNT_ALREADY_LINKED",
            Self::OAuthAccountLastSignIn => "OAUTH_ACCOUNT_LAST_SIGN_IN",
            Self::ReauthenticationRequired => "REAUTHENTICATION_REQUIRED",
            Self::Login2faRequired => "LOGIN_2FA_REQUIRED",
            Self::Login2faBadToken => "LOGIN_2FA_BAD_TOKEN",
            Self::Login2faBadCode => "LOGIN_2FA_BAD_CODE",
            Self::TwoFactorEnrolmentRequired => "TWO_FACTOR_ENROLMENT_REQUIRED",
            Self::TwoFactorBadCode => "TWO_FACTOR_BAD_CODE",
            Self::TwoFactorNotEnabled => "TWO_FACTOR_NOT_ENABLED",
            Self::PasskeyChallengeInvalid => "PASSKEY_CHALLENGE_INVALID",
            Self::PasskeyOriginMismatch => "PASSKEY_ORIGIN_MISMATCH",
            Self::PasskeyRpIdMismatch => "PASSKEY_RP_ID_MISMATCH",
            Self::PasskeyUserVerificationRequired => "PASSKEY_USER_VERIFICATION_REQUIRED",
            Self::PasskeyInvalid => "PASSKEY_INVALID",
            Self::PasskeyAlreadyRegistered => "PASSKEY_ALREADY_REGISTERED",
            Self::PasskeyLastSignIn => "PASSKEY_LAST_SIGN_IN",
            Self::LoginUserBanned => "LOGIN_USER_BANNED",
            Self::BanSuperuser => "BAN_SUPERUSER",
            Self::ImpersonateSuperuser => "IMPERSONATE_SUPERUSER",
            Self::ImpersonationForbidden => "IMPERSONATION_FORBIDDEN",
            Self::NotImpersonating => "NOT_IMPERSONATING",
        }
    }
}

/// What the built-in routes answer for each [`ErrorCode`]: FastAPI Users' code, or a
/// text the application chose (`WardenBuilder::error_text`). The routes and the
/// OpenAPI document read the same table, so the document shows what is answered.
///
/// ```
/// use warden_runtime::{ErrorCode, ErrorTexts};
/// let mut texts = ErrorTexts::default();
/// texts.set(ErrorCode::LoginBadCredentials, "Invalid credentials");
/// assert_eq!(texts.text(ErrorCode::LoginBadCredentials), "Invalid credentials");
/// assert_eq!(texts.text(ErrorCode::LoginUserNotVerified), "LOGIN_USER_NOT_VERIFIED");
/// assert_eq!(texts.error(ErrorCode::LoginBadCredentials).detail(), "Invalid credentials");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorTexts(std::collections::BTreeMap<ErrorCode, String>);

impl ErrorTexts {
    /// Answers `code` with `text` from now on.
    pub fn set(&mut self, code: ErrorCode, text: impl Into<String>) {
        self.0.insert(code, text.into());
    }

    /// What `code` is answered with.
    pub fn text(&self, code: ErrorCode) -> &str {
        self.0.get(&code).map_or(code.as_str(), String::as_str)
    }

    /// 400 `{"detail": text}`.
    pub fn error(&self, code: ErrorCode) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, Value::from(self.text(code)))
    }

    /// 400 `{"detail": {"code": text, "reason": "..."}}`, FastAPI Users' form for
    /// refused passwords.
    pub fn error_with_reason(&self, code: ErrorCode, reason: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            json!({ "code": self.text(code), "reason": reason.into() }),
        )
    }
}

impl ErrorTexts {
    /// 400 `{"detail": {"code": text, ...fields}}`: a code with what the client
    /// needs beside it (a ban's end).
    pub fn error_with_detail(&self, code: ErrorCode, fields: Value) -> ApiError {
        let mut detail = json!({ "code": self.text(code) });
        if let (Some(detail), Value::Object(fields)) = (detail.as_object_mut(), fields) {
            for (name, value) in fields {
                if name != "code" {
                    detail.insert(name, value);
                }
            }
        }
        ApiError::new(StatusCode::BAD_REQUEST, detail)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `WWW-Authenticate` challenge a 401 carries (RFC 6750 §3, RFC 9470 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Challenge {
    /// No header.
    None,
    /// `Bearer`: the request carried no credential (RFC 6750 §3.1: no error code).
    Bearer,
    /// `Bearer error="invalid_token"`: a credential was presented and refused.
    InvalidToken,
    /// `Bearer error="insufficient_user_authentication", max_age=N` (RFC 9470 §3):
    /// the sign-in is older than the route allows.
    Reauthenticate(u32),
    /// `Bearer error="insufficient_user_authentication", acr_values="..."` (RFC
    /// 9470 §3), with `max_age` too when the route also wants a recent sign-in:
    /// the session lacks a second factor.
    StepUp(Box<StepUp>),
    /// `Bearer error="insufficient_scope", scope="..."` (RFC 6750 §3.1): an API
    /// key without the route's scope.
    InsufficientScope(Box<MissingScope>),
}

/// The scope an `insufficient_scope` challenge names (boxed, as [`StepUp`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct MissingScope(&'static str);

/// What a second-factor challenge names (boxed: errors travel by value, and most
/// carry no challenge).
#[derive(Debug, Clone, PartialEq, Eq)]
struct StepUp {
    acr: String,
    max_age: Option<u32>,
}

/// An error answered to a client, always as JSON `{"detail": ...}` like FastAPI.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    status: StatusCode,
    detail: Value,
    challenge: Challenge,
    /// `Retry-After`, in seconds (RFC 9110 §10.2.3).
    retry_after: Option<u32>,
    /// Shaped as an OAuth 2.0 error (`{"error": ...}`), not FastAPI's `detail`.
    oauth: bool,
    /// An RFC 6749 §5.2 `error` member beside `detail`, for OAuth2 clients that read
    /// the FastAPI Users answer.
    grant_error: Option<&'static str>,
}

impl ApiError {
    /// 400 `{"detail": "<CODE>"}`.
    pub fn code(code: ErrorCode) -> Self {
        ErrorTexts::default().error(code)
    }

    /// 400 `{"detail": {"code": "<CODE>", "reason": "..."}}`, FastAPI Users' form for
    /// refused passwords.
    pub fn code_with_reason(code: ErrorCode, reason: impl Into<String>) -> Self {
        ErrorTexts::default().error_with_reason(code, reason)
    }

    /// 401 `{"detail": "Unauthorized"}` with `WWW-Authenticate: Bearer` (RFC 6750 §3;
    /// FastAPI Users omits the header, we add it).
    pub fn unauthorized() -> Self {
        Self {
            challenge: Challenge::Bearer,
            ..Self::new(StatusCode::UNAUTHORIZED, Value::from("Unauthorized"))
        }
    }

    /// 401 `{"detail": "Unauthorized"}` for a request that presented a credential no
    /// backend accepted: `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750
    /// §3.1), so an OAuth2 client knows to sign in again rather than retry.
    ///
    /// ```
    /// use warden_runtime::ApiError;
    /// use axum::response::IntoResponse;
    /// let response = ApiError::invalid_token().into_response();
    /// assert_eq!(response.headers()["www-authenticate"], r#"Bearer error="invalid_token""#);
    /// ```
    pub fn invalid_token() -> Self {
        Self {
            challenge: Challenge::InvalidToken,
            ..Self::unauthorized()
        }
    }

    /// 403 `{"detail": "Forbidden"}` with `WWW-Authenticate: Bearer
    /// error="insufficient_scope", scope="..."` (RFC 6750 §3.1): the request's API
    /// key does not hold `scope`.
    ///
    /// ```
    /// use warden_runtime::ApiError;
    /// use axum::response::IntoResponse;
    /// let response = ApiError::insufficient_scope("reports:read").into_response();
    /// assert_eq!(response.status(), 403);
    /// assert_eq!(
    ///     response.headers()["www-authenticate"],
    ///     r#"Bearer error="insufficient_scope", scope="reports:read""#
    /// );
    /// ```
    pub fn insufficient_scope(scope: &'static str) -> Self {
        Self {
            challenge: Challenge::InsufficientScope(Box::new(MissingScope(scope))),
            ..Self::forbidden()
        }
    }

    /// 401 `{"detail": "REAUTHENTICATION_REQUIRED"}` with `WWW-Authenticate: Bearer
    /// error="insufficient_user_authentication", max_age=N` (RFC 9470 §3): the route
    /// wants a sign-in at most `max_age` seconds old. Its own body code tells clients
    /// not to answer it with a refresh, which keeps the sign-in time.
    ///
    /// ```
    /// use warden_runtime::ApiError;
    /// use axum::response::IntoResponse;
    /// let response = ApiError::reauthentication_required(300).into_response();
    /// assert_eq!(
    ///     response.headers()["www-authenticate"],
    ///     r#"Bearer error="insufficient_user_authentication", max_age=300"#
    /// );
    /// ```
    pub fn reauthentication_required(max_age: u32) -> Self {
        Self {
            challenge: Challenge::Reauthenticate(max_age),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                Value::from(ErrorCode::ReauthenticationRequired.as_str()),
            )
        }
    }

    /// 401 `{"detail": "REAUTHENTICATION_REQUIRED"}` with `WWW-Authenticate: Bearer
    /// error="insufficient_user_authentication", acr_values="<acr>"` (RFC 9470 §3):
    /// the route wants a sign-in that passed a second factor, which a
    /// re-authentication with a code (or a new sign-in) gives. `max_age` too when
    /// the route also wants a recent one.
    ///
    /// ```
    /// use warden_runtime::ApiError;
    /// use axum::response::IntoResponse;
    /// let response = ApiError::second_factor_required("urn:example:mfa", None).into_response();
    /// assert_eq!(
    ///     response.headers()["www-authenticate"],
    ///     r#"Bearer error="insufficient_user_authentication", acr_values="urn:example:mfa""#
    /// );
    /// ```
    pub fn second_factor_required(acr: &str, max_age: Option<u32>) -> Self {
        Self {
            challenge: Challenge::StepUp(Box::new(StepUp {
                acr: acr.to_owned(),
                max_age,
            })),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                Value::from(ErrorCode::ReauthenticationRequired.as_str()),
            )
        }
    }

    /// The same error with RFC 6749 §5.2's `error` member beside `detail`: what an
    /// OAuth2 client library reads from a refused password grant, while FastAPI
    /// Users' clients keep reading `detail`.
    #[must_use]
    pub fn with_grant_error(mut self, code: &'static str) -> Self {
        self.grant_error = Some(code);
        self
    }

    /// The same 401 for a request that did present a credential: its challenge
    /// names `invalid_token` (RFC 6750 §3.1).
    #[must_use]
    pub(crate) fn into_invalid_token(self) -> Self {
        match self.challenge {
            Challenge::Bearer => Self {
                challenge: Challenge::InvalidToken,
                ..self
            },
            _ => self,
        }
    }

    /// RFC 6749 §5.2's answer to a refused grant: 400 `{"error": code}`
    /// (`invalid_grant`, `unsupported_grant_type`, `invalid_request`).
    pub fn oauth(code: &'static str) -> Self {
        Self {
            oauth: true,
            ..Self::new(StatusCode::BAD_REQUEST, Value::from(code))
        }
    }

    /// 403 `{"detail": "Forbidden"}`.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, Value::from("Forbidden"))
    }

    /// 404 `{"detail": "Not Found"}`.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, Value::from("Not Found"))
    }

    /// 422 with FastAPI's validation error list: one entry per problem, each
    /// `{"type", "loc", "msg"}`. The submitted input is never echoed (it may be a
    /// password).
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let list = errors.into_iter().map(FieldError::into_json).collect();
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, Value::Array(list))
    }

    /// 500 `{"detail": "Internal Server Error"}`; the cause is logged, never sent.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Value::from("Internal Server Error"),
        )
    }

    /// 503 `{"detail": "Service Unavailable"}`: the database (or token storage) is out
    /// of reach; the cause is logged.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Value::from("Service Unavailable"),
        )
    }

    /// Any status with a plain string detail.
    pub fn new(status: StatusCode, detail: Value) -> Self {
        Self {
            status,
            detail,
            challenge: Challenge::None,
            retry_after: None,
            oauth: false,
            grant_error: None,
        }
    }

    /// The same error, telling the client to retry after `seconds` (RFC 9110
    /// §10.2.3), for a 503 or a 429.
    #[must_use]
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `detail` value of the body.
    pub fn detail(&self) -> &Value {
        &self.detail
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match (self.oauth, self.grant_error) {
            (true, _) => json!({ "error": self.detail }),
            (false, Some(error)) => json!({ "detail": self.detail, "error": error }),
            (false, None) => json!({ "detail": self.detail }),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        let challenge = match self.challenge {
            Challenge::None => None,
            Challenge::Bearer => Some(HeaderValue::from_static("Bearer")),
            Challenge::InvalidToken => {
                Some(HeaderValue::from_static(r#"Bearer error="invalid_token""#))
            }
            Challenge::Reauthenticate(max_age) => HeaderValue::from_str(&format!(
                r#"Bearer error="insufficient_user_authentication", max_age={max_age}"#
            ))
            .ok(),
            // RFC 9470 §3: a quoted string; the ACR is the application's own
            // configuration, and a quote or backslash in it is escaped.
            Challenge::StepUp(step_up) => {
                let StepUp { acr, max_age } = *step_up;
                let acr = acr.replace('\\', "\\\\").replace('"', "\\\"");
                let max_age = max_age
                    .map(|age| format!(", max_age={age}"))
                    .unwrap_or_default();
                HeaderValue::from_str(&format!(
                    r#"Bearer error="insufficient_user_authentication", acr_values="{acr}"{max_age}"#
                ))
                .ok()
            }
            // RFC 6750 §3: scope names are %x21 / %x23-5B / %x5D-7E, checked by
            // the `Scopes` derive, so the value needs no escaping.
            Challenge::InsufficientScope(scope) => HeaderValue::from_str(&format!(
                r#"Bearer error="insufficient_scope", scope="{}""#,
                scope.0
            ))
            .ok(),
        };
        if let Some(challenge) = challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// One entry of a 422 body, as FastAPI (pydantic) lays it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// pydantic's error type, e.g. `missing`, `string_type`, `value_error`.
    pub kind: &'static str,
    /// Where: `["body", "password"]`.
    pub loc: Vec<String>,
    /// A sentence for humans.
    pub msg: String,
}

impl FieldError {
    /// A problem with one body field.
    pub fn body(field: &str, kind: &'static str, msg: impl Into<String>) -> Self {
        Self {
            kind,
            loc: vec!["body".into(), field.into()],
            msg: msg.into(),
        }
    }

    /// A problem with the body as a whole.
    pub fn whole_body(kind: &'static str, msg: impl Into<String>) -> Self {
        Self {
            kind,
            loc: vec!["body".into()],
            msg: msg.into(),
        }
    }

    fn into_json(self) -> Value {
        json!({ "type": self.kind, "loc": self.loc, "msg": self.msg })
    }
}

/// A configuration mistake found at startup. Its message names the option and the fix,
/// on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A key source names an environment variable that is not set.
    #[error(
        "backend `{backend}`: option `{option}`: environment variable {var} is not set; {hint}"
    )]
    MissingEnv {
        /// The backend's name.
        backend: String,
        /// `secret` or `public_key`.
        option: &'static str,
        /// The variable.
        var: String,
        /// What to put there.
        hint: &'static str,
    },
    /// A key file could not be read.
    #[error(
        "backend `{backend}`: option `{option}`: cannot read {path}: {reason}; point {option} = file(\"...\") at a readable PEM file"
    )]
    UnreadableFile {
        /// The backend's name.
        backend: String,
        /// `secret` or `public_key`.
        option: &'static str,
        /// The path as configured.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// A key or secret was read but is not usable.
    #[error("backend `{backend}`: option `{option}`: {problem}")]
    BadKey {
        /// The backend's name.
        backend: String,
        /// `secret`, `public_key` or `algorithm`.
        option: &'static str,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// Some other option is out of range.
    #[error("backend `{backend}`: option `{option}`: {problem}")]
    BadOption {
        /// The backend's name.
        backend: String,
        /// The option.
        option: &'static str,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// Two backends share one name (and so one set of routes).
    #[error(
        "two backends are named `{0}`: give each #[auth_backend(name = \"...\")] a distinct name"
    )]
    DuplicateBackend(String),
    /// The builder is missing a part.
    #[error("Warden::builder(): {0}")]
    Incomplete(&'static str),
    /// The builder's parts do not fit together; the message says how to fix it.
    #[error("Warden::builder(): {0}")]
    Mismatch(String),
    /// The development secret file could not be used.
    #[error("development secret file {path}: {reason}; remove it or set WARDEN_SECRET")]
    DevSecret {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}
