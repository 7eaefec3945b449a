//! The API key routes' documentation: bodies, responses and refusals.

use serde_json::json;
use utoipa::openapi::response::Response;
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{PartialSchema, ToSchema};

use super::{Errors, JSON, Op, TAG_USERS, json_array_response, json_response};
use crate::openapi::{ApiKeyOp, ApiSpec, Operation};

const API_KEY_READ: &str = "ApiKeyRead";
const API_KEY_CREATED: &str = "ApiKeyCreated";
const API_KEY_CREATE: &str = "ApiKeyCreate";

/// An API key as listed: never its secret.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ApiKeyRead {
    /// The public id: the `{key_id}` of its routes.
    id: String,
    name: String,
    /// The key's first characters (`wdn_` and the public id), to recognise it.
    prefix: String,
    scopes: Vec<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    /// To the minute.
    #[schema(format = DateTime)]
    last_used_at: Option<String>,
}

/// A new API key, with the key itself: shown this once.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ApiKeyCreated {
    id: String,
    name: String,
    prefix: String,
    scopes: Vec<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    #[schema(format = DateTime)]
    last_used_at: Option<String>,
    /// The key: `wdn_` + public id + secret + checksum. Store it now: it is never
    /// shown again.
    key: String,
}

/// A new key's name (1 to 64 characters), scopes (among the application's) and
/// lifetime in days (1 to 3650; left out or null: it never expires).
#[derive(ToSchema)]
#[allow(dead_code)]
struct ApiKeyCreate {
    name: String,
    #[schema(required = false)]
    scopes: Vec<String>,
    expires_in_days: Option<u32>,
}

fn named<T: PartialSchema>(name: &str) -> RefOr<Schema> {
    let mut schema = T::schema();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.title = Some(name.to_owned());
    }
    schema
}

/// The API key schemas, for the document's components.
pub(crate) fn schemas() -> Vec<(&'static str, RefOr<Schema>)> {
    vec![
        (API_KEY_READ, named::<ApiKeyRead>(API_KEY_READ)),
        (API_KEY_CREATED, named::<ApiKeyCreated>(API_KEY_CREATED)),
        (API_KEY_CREATE, named::<ApiKeyCreate>(API_KEY_CREATE)),
    ]
}

fn created() -> Response {
    json_response(
        "Created: the key, shown this once",
        API_KEY_CREATED,
        Some(json!({
            "id": "4fQ9xT2bLm7Z",
            "name": "ci",
            "prefix": "wdn_4fQ9xT2bLm7Z",
            "scopes": ["reports:read"],
            "created_at": "2026-12-06T11:00:00Z",
            "expires_at": "2027-03-06T11:00:00Z",
            "last_used_at": null,
            "key": "wdn_4fQ9xT2bLm7Z..."
        })),
    )
}

/// The API key operations, when a backend of API keys is declared.
pub(crate) fn operations(spec: &ApiSpec, schemes: &[String]) -> Vec<Op> {
    let op = |op: ApiKeyOp| Op::new(Operation::ApiKey(op)).tag(TAG_USERS);
    let refused = "An API key is refused (403): keys never manage keys.";
    vec![
        op(ApiKeyOp::Create)
            .description(format!(
                "Creates an API key of the current user and answers it this once; only a \
                 hash of its secret is kept. Needs a sign-in of the last five minutes (401 \
                 `REAUTHENTICATION_REQUIRED`). Unknown scopes: 422 listing the valid ones. \
                 {refused}"
            ))
            .body(&[(JSON, API_KEY_CREATE)])
            .success(201, created())
            .errors(Errors::new().unauthorized().forbidden().validation())
            .security(schemes),
        op(ApiKeyOp::List)
            .description(format!(
                "The current user's live API keys (revoked ones are left out), without \
                 their secrets. {refused}"
            ))
            .success(
                200,
                json_array_response("Successful Response", API_KEY_READ),
            )
            .errors(Errors::new().unauthorized().forbidden())
            .security(schemes),
        op(ApiKeyOp::Delete)
            .description(format!(
                "Revokes one of the current user's API keys, on every instance at once. \
                 {refused}"
            ))
            .key_parameter("No such live key of the current user.")
            .success(204, Response::new("Successful Response"))
            .errors(Errors::new().unauthorized().forbidden().not_found())
            .security(schemes),
        op(ApiKeyOp::UserList)
            .description("Superusers only: the user's live API keys.")
            .id_parameter(spec.integer_ids)
            .success(
                200,
                json_array_response("Successful Response", API_KEY_READ),
            )
            .errors(Errors::new().unauthorized().forbidden().not_found())
            .security(schemes),
        op(ApiKeyOp::UserDelete)
            .description("Superusers only: revokes one of the user's API keys.")
            .id_parameter(spec.integer_ids)
            .key_parameter("No such user, or no such live key of theirs.")
            .success(204, Response::new("Successful Response"))
            .errors(Errors::new().unauthorized().forbidden().not_found())
            .security(schemes),
    ]
}
