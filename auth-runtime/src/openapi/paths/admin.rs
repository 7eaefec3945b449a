//! The admin routes' documentation: the user list and bans. Each asks an active
//! superuser with a sign-in of the last 15 minutes (and a second factor when
//! two-factor authentication is configured): 401 with RFC 9470's challenge
//! otherwise.

use serde_json::json;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use super::{Errors, JSON, Op, Query, TAG_USERS, json_response};
use crate::error::ErrorCode;
use crate::openapi::schemas::{USER_READ, reference};
use crate::openapi::{BackendSpec, Operation};

const BAN_CREATE: &str = "BanCreate";
const BAN_READ: &str = "BanRead";
const USER_PAGE: &str = "UserPage";

/// The rule every admin route states.
const OPERATOR: &str = "Superusers only, signed in within the last 15 minutes (and with a \
second factor when two-factor authentication is configured): otherwise 401 with RFC 9470's \
`insufficient_user_authentication` challenge; `POST /auth/{name}/reauthenticate` renews the \
sign-in.";

/// A ban.
#[derive(ToSchema)]
#[allow(dead_code)]
struct BanCreate {
    /// Why, for operators: never shown to the user. At most 500 bytes.
    reason: Option<String>,
    /// When the ban ends by itself (RFC 3339, in the future); absent or `null`:
    /// until lifted.
    #[schema(format = DateTime)]
    until: Option<String>,
}

/// A user's ban.
#[derive(ToSchema)]
#[allow(dead_code)]
struct BanRead {
    user_id: String,
    reason: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    until: Option<String>,
    /// The superuser who banned the user; `null` for the CLI or code.
    banned_by: Option<String>,
}

/// One page of the user list.
fn user_page() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .title(Some(USER_PAGE))
        .property("items", ArrayBuilder::new().items(reference(USER_READ)))
        .required("items")
        .property(
            "next_cursor",
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                    Type::String,
                    Type::Null,
                ]))
                .description(Some(
                    "The `cursor` of the next page, with the same filters; `null` on the last.",
                )),
        )
        .required("next_cursor")
        .into()
}

/// The admin schemas, for the document's components (with the users router).
pub(crate) fn schemas() -> Vec<(&'static str, RefOr<Schema>)> {
    let named = |name: &str, mut schema: RefOr<Schema>| {
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.title = Some(name.to_owned());
        }
        schema
    };
    vec![
        (BAN_CREATE, named(BAN_CREATE, BanCreate::schema())),
        (BAN_READ, named(BAN_READ, BanRead::schema())),
        (USER_PAGE, user_page().into()),
    ]
}

/// `POST /auth/{name}/stop-impersonating`, for one backend.
pub(super) fn stop_impersonating(backend: &BackendSpec, scheme: &str) -> Op {
    let response = match backend.cookie_name() {
        None => utoipa::openapi::response::Response::new("No Content"),
        Some(cookie) => super::set_cookie(
            cookie,
            "No Content: the cookie carries the superuser's own token again, and              `<cookie>_admin` is cleared.",
        ),
    };
    Op::new(Operation::StopImpersonating {
        backend: std::sync::Arc::from(backend.name.as_str()),
    })
    .description(
        "Ends the impersonation session the token belongs to, on every instance. On a          cookie transport the superuser's own token, kept aside in `<cookie>_admin` at          `POST /users/{id}/impersonate`, is put back.",
    )
    .success(204, response)
    .errors(
        Errors::new()
            .code(
                ErrorCode::NotImpersonating,
                "The session is the user's own, not an impersonation.",
            )
            .unauthorized(),
    )
    .security(&[scheme.to_owned()])
}

/// `GET /users`, `POST /users/{id}/ban`, `POST /users/{id}/unban`,
/// `POST /users/{id}/impersonate`.
pub(super) fn operations(schemes: &[String], integer_ids: bool) -> Vec<Op> {
    vec![
        Op::new(Operation::ListUsers)
            .tag(TAG_USERS)
            .description(format!(
                "{OPERATOR} One page of users in ascending id order. `email`: a \
                 case-insensitive prefix; `is_active`, `is_verified`, `is_superuser`: \
                 flags; `role`: users holding that role (a model with roles); `limit`: \
                 1 to 100 (50); `cursor`: the previous page's `next_cursor`."
            ))
            .query("email", Query::Text)
            .query("is_active", Query::Bool)
            .query("is_verified", Query::Bool)
            .query("is_superuser", Query::Bool)
            .query("role", Query::Text)
            .query("limit", Query::Integer)
            .query("cursor", Query::Text)
            .success(
                200,
                json_response(
                    "Successful Response",
                    USER_PAGE,
                    Some(json!({"items": [], "next_cursor": null})),
                ),
            )
            .errors(Errors::new().unauthorized().forbidden().validation())
            .security(schemes),
        Op::new(Operation::BanUser)
            .tag(TAG_USERS)
            .description(format!(
                "{OPERATOR} Bans the user until `until` or until lifted: every session \
                 and token of theirs ends on every instance, and every way in (password, \
                 provider, refresh, passkey, second factor) is refused; a login with the \
                 right password answers `LOGIN_USER_BANNED` with the end. A new ban \
                 replaces the old one."
            ))
            .id_parameter(integer_ids)
            .body(&[(JSON, BAN_CREATE)])
            .success(200, json_response("Successful Response", BAN_READ, None))
            .errors(
                Errors::new()
                    .code(
                        ErrorCode::BanSuperuser,
                        "The user is a superuser: demote them first.",
                    )
                    .unauthorized()
                    .forbidden()
                    .not_found()
                    .validation(),
            )
            .security(schemes),
        Op::new(Operation::UnbanUser)
            .tag(TAG_USERS)
            .description(format!(
                "{OPERATOR} Lifts the user's ban, if any. Sessions the ban ended stay ended."
            ))
            .id_parameter(integer_ids)
            .success(
                204,
                utoipa::openapi::response::Response::new("Successful Response"),
            )
            .errors(Errors::new().unauthorized().forbidden().not_found())
            .security(schemes),
        Op::new(Operation::Impersonate)
            .tag(TAG_USERS)
            .description(format!(
                "{OPERATOR} Signs in as the user through the superuser's own backend: its                  login response, for a session of at most an hour without a refresh                  token, whose JWTs carry RFC 8693's `act: {{\"sub\": <superuser id>}}`                  (delegation). The session is listed among the user's sessions with                  `impersonated_by`; it never changes the user's credentials and never                  passes a fresh-sign-in or second-factor rule (403                  `IMPERSONATION_FORBIDDEN`). A cookie transport keeps the superuser's own                  token in `<cookie>_admin` for `POST /auth/{{name}}/stop-impersonating`."
            ))
            .id_parameter(integer_ids)
            .success(
                200,
                utoipa::openapi::response::Response::new(
                    "The backend's login response (bearer JSON, or 204 with the cookie).",
                ),
            )
            .errors(
                Errors::new()
                    .code(
                        ErrorCode::ImpersonateSuperuser,
                        "The user is a superuser.",
                    )
                    .unauthorized()
                    .forbidden()
                    .not_found(),
            )
            .security(schemes),
    ]
}
