//! The passkey routes' documentation (cargo feature `passkeys`): request bodies,
//! responses and the error codes each refusal answers.

use std::sync::Arc;

use serde_json::json;
use utoipa::openapi::response::Response;
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{PartialSchema, ToSchema};

use super::{Errors, JSON, Op, TAG_AUTH, TAG_USERS, json_array_response, json_response};
use crate::error::ErrorCode;
use crate::openapi::{ApiSpec, BackendSpec, Operation, PasskeyOp};

const PASSKEY_READ: &str = "PasskeyRead";
const PASSKEY_CREATE: &str = "PasskeyCreate";
const PASSKEY_RENAME: &str = "PasskeyRename";
const PASSKEY_LOGIN: &str = "PasskeyLoginRequest";
const PASSKEY_LOGIN_OPTIONS: &str = "PasskeyLoginOptionsRequest";
const PASSKEY_OPTIONS: &str = "PasskeyOptions";
const PASSKEY_SIGNUP: &str = "PasskeySignup";

/// A passkey of the current user.
#[derive(ToSchema)]
#[allow(dead_code)]
struct PasskeyRead {
    /// The credential id (base64url): the `{passkey_id}` of its routes.
    id: String,
    name: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    last_used_at: Option<String>,
    /// Whether the authenticator backs it up (a synced passkey).
    backed_up: bool,
}

/// A new passkey: its name, and the `PublicKeyCredential.toJSON()` output of
/// `navigator.credentials.create()` called with the options.
#[derive(ToSchema)]
#[allow(dead_code)]
struct PasskeyCreate {
    name: String,
    #[schema(value_type = Object)]
    credential: serde_json::Value,
}

/// A passkey's new name (1 to 64 characters).
#[derive(ToSchema)]
#[allow(dead_code)]
struct PasskeyRename {
    name: String,
}

/// The `PublicKeyCredential.toJSON()` output of `navigator.credentials.get()`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct PasskeyLoginRequest {
    #[schema(value_type = Object)]
    credential: serde_json::Value,
    /// With two-factor authentication on: the `mfa_token` a password login of the
    /// same user got, which the passkey then answers (the session records both).
    #[schema(required = false)]
    mfa_token: String,
}

/// The login (e-mail or username); left out for discoverable credentials.
#[derive(ToSchema)]
#[allow(dead_code)]
struct PasskeyLoginOptionsRequest {
    username: Option<String>,
}

/// WebAuthn Level 3 options: `publicKey` as `parseCreationOptionsFromJSON` /
/// `parseRequestOptionsFromJSON` take it, base64url strings.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct PasskeyOptions {
    #[schema(value_type = Object)]
    public_key: serde_json::Value,
    mediation: Option<String>,
}

/// The new account's fields (`UserCreate` without `password`) for the options;
/// the finishing request sends `credential` (and optionally the passkey's `name`).
#[derive(ToSchema)]
#[allow(dead_code)]
struct PasskeySignup {
    email: Option<String>,
    #[schema(value_type = Object)]
    credential: Option<serde_json::Value>,
    name: Option<String>,
}

fn named<T: PartialSchema>(name: &str) -> RefOr<Schema> {
    let mut schema = T::schema();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.title = Some(name.to_owned());
    }
    schema
}

/// The passkey schemas, for the document's components.
pub(crate) fn schemas() -> Vec<(&'static str, RefOr<Schema>)> {
    vec![
        (PASSKEY_READ, named::<PasskeyRead>(PASSKEY_READ)),
        (PASSKEY_CREATE, named::<PasskeyCreate>(PASSKEY_CREATE)),
        (PASSKEY_RENAME, named::<PasskeyRename>(PASSKEY_RENAME)),
        (PASSKEY_LOGIN, named::<PasskeyLoginRequest>(PASSKEY_LOGIN)),
        (
            PASSKEY_LOGIN_OPTIONS,
            named::<PasskeyLoginOptionsRequest>(PASSKEY_LOGIN_OPTIONS),
        ),
        (PASSKEY_OPTIONS, named::<PasskeyOptions>(PASSKEY_OPTIONS)),
        (PASSKEY_SIGNUP, named::<PasskeySignup>(PASSKEY_SIGNUP)),
    ]
}

fn options_response() -> Response {
    json_response(
        "Successful Response: the options, for the browser",
        PASSKEY_OPTIONS,
        Some(json!({"publicKey": {
            "challenge": "q7lCdd3SVQxdC-v8pnRAGEn1B2M-t7ZECWPwCAmhWvc",
            "timeout": 300000,
            "rpId": "example.com",
            "allowCredentials": [{"type": "public-key", "id": "F4DCM8WpQ7q2O_cUs2Q7QA", "transports": ["hybrid", "internal"]}],
            "userVerification": "required"
        }})),
    )
}

/// The refusals of a credential's checks, in the README's words.
fn ceremony_errors(errors: Errors) -> Errors {
    errors
        .code(
            ErrorCode::PasskeyChallengeInvalid,
            "The challenge is unknown, used, or older than five minutes: ask for new options.",
        )
        .code(
            ErrorCode::PasskeyOriginMismatch,
            "The page's origin is none of the configured origins.",
        )
        .code(
            ErrorCode::PasskeyRpIdMismatch,
            "The authenticator signed for another RP ID.",
        )
        .code(
            ErrorCode::PasskeyUserVerificationRequired,
            "The authenticator did not verify the user (PIN or biometric).",
        )
}

/// The passkey operations of `spec`'s backends and users.
pub(crate) fn operations(spec: &ApiSpec, schemes: &[String]) -> Vec<Op> {
    let passkey = |op: PasskeyOp| Op::new(Operation::Passkey(op));
    let mut ops = vec![
        passkey(PasskeyOp::RegisterOptions)
            .tag(TAG_USERS)
            .description(
                "Creation options for a new passkey of the current user, excluding the \
                 authenticators that hold one of theirs. Needs a sign-in of the last five \
                 minutes (401 `REAUTHENTICATION_REQUIRED`).",
            )
            .success(200, options_response())
            .errors(Errors::new().unauthorized())
            .security(schemes),
        passkey(PasskeyOp::Add)
            .tag(TAG_USERS)
            .description(
                "Stores the passkey the browser made with the options. Needs a sign-in of \
                 the last five minutes. The user is told (`passkey_added`).",
            )
            .body(&[(JSON, PASSKEY_CREATE)])
            .success(
                201,
                json_response("Successful Response", PASSKEY_READ, None),
            )
            .errors(
                ceremony_errors(Errors::new())
                    .code(ErrorCode::PasskeyInvalid, "The credential does not verify.")
                    .code(
                        ErrorCode::PasskeyAlreadyRegistered,
                        "This credential is registered already.",
                    )
                    .unauthorized()
                    .validation(),
            )
            .security(schemes),
        passkey(PasskeyOp::List)
            .tag(TAG_USERS)
            .description("The current user's passkeys, oldest first.")
            .success(
                200,
                json_array_response("Successful Response", PASSKEY_READ),
            )
            .errors(Errors::new().unauthorized())
            .security(schemes),
        passkey(PasskeyOp::Rename)
            .tag(TAG_USERS)
            .passkey_parameter()
            .body(&[(JSON, PASSKEY_RENAME)])
            .success(
                200,
                json_response("Successful Response", PASSKEY_READ, None),
            )
            .errors(Errors::new().unauthorized().not_found().validation())
            .security(schemes),
        passkey(PasskeyOp::Delete)
            .tag(TAG_USERS)
            .description(
                "Deletes one of the current user's passkeys; needs a sign-in of the last five \
                 minutes. Refused while it is the user's last way in (no password, no linked \
                 provider account, no other passkey). The user is told (`passkey_removed`).",
            )
            .passkey_parameter()
            .success(204, Response::new("Successful Response"))
            .errors(
                Errors::new()
                    .code(
                        ErrorCode::PasskeyLastSignIn,
                        "It is the user's last way in.",
                    )
                    .unauthorized()
                    .not_found(),
            )
            .security(schemes),
        passkey(PasskeyOp::Client)
            .tag(TAG_AUTH)
            .description(
                "A dependency-free ES module: `register`, `signIn` and `signUp` run the \
                 ceremonies with the browser's JSON methods, converting where it lacks them.",
            )
            .success(200, Response::new("The module (text/javascript)")),
    ];
    // An API key backend signs no one in, with a passkey or otherwise.
    for backend in spec.backends.iter().filter(|backend| !backend.api_key) {
        ops.extend(login_operations(backend));
    }
    ops.extend([
        passkey(PasskeyOp::SignupOptions)
            .description(
                "Creation options for a new account with a passkey alone: the account's \
                 fields as for `POST /auth/register`, without `password`.",
            )
            .body(&[(JSON, PASSKEY_SIGNUP)])
            .success(200, options_response())
            .errors(
                Errors::new()
                    .code(
                        ErrorCode::RegisterUserAlreadyExists,
                        "A user with this e-mail or login exists.",
                    )
                    .validation(),
            ),
        passkey(PasskeyOp::Signup)
            .description(
                "Creates the account and its passkey (no password: a locked marker no password \
                 matches). Then sign in with the passkey.",
            )
            .body(&[(JSON, PASSKEY_SIGNUP)])
            .success(
                201,
                json_response("Successful Response", super::schemas::USER_READ, None),
            )
            .errors(
                ceremony_errors(Errors::new())
                    .code(ErrorCode::PasskeyInvalid, "The credential does not verify.")
                    .code(
                        ErrorCode::RegisterUserAlreadyExists,
                        "The account was registered meanwhile.",
                    )
                    .validation(),
            ),
    ]);
    ops
}

fn login_operations(backend: &BackendSpec) -> Vec<Op> {
    let name: Arc<str> = Arc::from(backend.name.as_str());
    vec![
        Op::new(Operation::Passkey(PasskeyOp::LoginOptions {
            backend: Arc::clone(&name),
        }))
        .description(
            "Request options for a passkey sign-in: `{\"username\"}`, or `{}` for \
             discoverable credentials when on. A login without passkeys gets options of \
             the same shape, with decoy credential ids.",
        )
        .body(&[(JSON, PASSKEY_LOGIN_OPTIONS)])
        .success(200, options_response())
        .errors(Errors::new().validation()),
        Op::new(Operation::Passkey(PasskeyOp::Login { backend: name }))
            .description(
                "Signs in with the passkey: the backend's login response, with `amr` `hwk` \
                 (device-bound) or `swk` (synced) and `mfa`. Each refusal counts in the \
                 login throttle.",
            )
            .body(&[(JSON, PASSKEY_LOGIN)])
            .success(200, super::any_json_response("Successful Response: the backend's login response"))
            .errors(
                ceremony_errors(Errors::new())
                    .code(
                        ErrorCode::PasskeyInvalid,
                        "The signature counter went backwards (a cloned authenticator).",
                    )
                    .code(
                        ErrorCode::LoginBadCredentials,
                        "An unknown credential, another user's, a bad signature, or an inactive user.",
                    )
                    .code(ErrorCode::LoginUserNotVerified, "The user is not verified.")
                    .banned()
                    .validation(),
            ),
    ]
}
