//! warden's `/openapi.json` against FastAPI Users 15.0.5's own for the same app: a
//! bearer JWT backend `jwt`, a cookie backend `cookie`, the register, reset
//! password, verify and users routers, and an OAuth router (on `jwt`) plus an
//! associate router for the OpenID client `oidc`.
//!
//! FastAPI Users' document is committed beside its generator
//! (`tests/fixtures/fastapi_users_openapi/make_openapi.py`, pinned by the
//! `requirements.txt` there); this test needs no Python. Both documents are compared
//! operation by operation: path and method, operation id, tags, security, parameters
//! (name, in, required, schema), request body (required, content types, schema),
//! response statuses, their content types and schemas, headers, and the error codes
//! of their examples; and the security schemes. Schemas are compared with every `$ref` resolved, `title`,
//! `description` and `summary` dropped, `anyOf: [X, {type: null}]` written as
//! `type: [X, "null"]`, and `required` sorted. Every difference must be one of
//! [`DIVERGENCES`], each stated with its reason; a stated divergence that no longer
//! occurs fails the test too.

mod common;

use std::collections::BTreeMap;
use std::fmt;

use Kind::{Differs, OnlyInFastApiUsers, OnlyInWarden};
use common::{Http, Jwt, serve};
use reqwest::Method;
use serde_json::{Map, Value, json};
use warden::{MemoryStore, OAuthOptions, TokenSettings, Warden, auth_backend, oauth_client};

/// FastAPI Users 15.0.5's `app.openapi()` for the app below.
const FASTAPI_USERS: &str = include_str!("fixtures/fastapi_users_openapi/openapi.json");

/// FastAPI Users' `CookieTransport()` defaults: the cookie `fastapiusersauth`.
#[auth_backend(
    name = "cookie",
    lifetime = 3600,
    secret = "test-secret-that-is-at-least-32-bytes-long",
    transport = cookie
)]
struct Cookie;

/// The OpenID client; its provider is never reached (the document needs no
/// discovery, and the routes answer 503 until it can be).
#[oauth_client(
    name = "oidc",
    issuer = "http://127.0.0.1:1",
    client_id = "client-id",
    client_secret = "client-secret"
)]
struct Oidc;

const STATE_SECRET: &str = "a-state-secret-of-at-least-32-bytes-long";

/// What a difference is. Where it is: `METHOD /path` (or `components`), and the
/// place in that operation's compared view, its segments joined by ` > ` (empty for
/// the whole operation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// warden has it, FastAPI Users does not.
    OnlyInWarden,
    /// FastAPI Users has it, warden does not.
    OnlyInFastApiUsers,
    /// Both have it, with other values.
    Differs,
}

/// One stated, deliberate divergence: at `at` of each operation in `ops`, exactly
/// one difference of kind `kind`.
struct Divergence {
    ops: &'static [&'static str],
    at: &'static str,
    kind: Kind,
    why: &'static str,
}

/// The routes that need a logged-in user and document a 401 in both documents.
const LOGGED_IN: &[&str] = &[
    "GET /users/me",
    "PATCH /users/me",
    "GET /users/{id}",
    "PATCH /users/{id}",
    "DELETE /users/{id}",
    "POST /auth/jwt/logout",
    "POST /auth/cookie/logout",
];

/// The superuser routes.
const BY_ID: &[&str] = &["GET /users/{id}", "PATCH /users/{id}", "DELETE /users/{id}"];

/// The routes with a 400 (`ErrorModel`).
const BAD_REQUEST: &[&str] = &[
    "POST /auth/jwt/login",
    "POST /auth/cookie/login",
    "POST /auth/register",
    "POST /auth/reset-password",
    "POST /auth/verify",
    "PATCH /users/me",
    "PATCH /users/{id}",
    "GET /auth/oidc/callback",
    "GET /auth/associate/oidc/callback",
];

/// The routes with a 422 (`HTTPValidationError`): FastAPI documents one for every
/// route with a parameter or a body.
const VALIDATION: &[&str] = &[
    "POST /auth/jwt/login",
    "POST /auth/cookie/login",
    "POST /auth/register",
    "POST /auth/forgot-password",
    "POST /auth/reset-password",
    "POST /auth/request-verify-token",
    "POST /auth/verify",
    "PATCH /users/me",
    "GET /users/{id}",
    "PATCH /users/{id}",
    "DELETE /users/{id}",
    "GET /auth/oidc/authorize",
    "GET /auth/oidc/callback",
    "GET /auth/associate/oidc/authorize",
    "GET /auth/associate/oidc/callback",
];

const LOGINS: &[&str] = &["POST /auth/jwt/login", "POST /auth/cookie/login"];
const LOGOUTS: &[&str] = &["POST /auth/jwt/logout", "POST /auth/cookie/logout"];
const COOKIE_ROUTES: &[&str] = &["POST /auth/cookie/login", "POST /auth/cookie/logout"];
const CALLBACKS: &[&str] = &[
    "GET /auth/oidc/callback",
    "GET /auth/associate/oidc/callback",
];
const ASSOCIATE: &[&str] = &[
    "GET /auth/associate/oidc/authorize",
    "GET /auth/associate/oidc/callback",
];

/// Every deliberate divergence of warden's document from FastAPI Users' for this
/// app. Anything else is a bug in one of them.
const DIVERGENCES: &[Divergence] = &[
    // Routes FastAPI Users does not have.
    Divergence {
        ops: &["POST /auth/jwt/refresh", "POST /auth/cookie/refresh"],
        at: "",
        kind: OnlyInWarden,
        why: "warden generates the refresh route that FastAPI Users leaves to a recipe",
    },
    Divergence {
        ops: &[
            "POST /auth/jwt/reauthenticate",
            "POST /auth/cookie/reauthenticate",
        ],
        at: "",
        kind: OnlyInWarden,
        why: "step-up (RFC 9470): the password again renews the session's sign-in for `fresh = N` routes",
    },
    Divergence {
        ops: &[
            "GET /users/me/sessions",
            "DELETE /users/me/sessions",
            "DELETE /users/me/sessions/{session_id}",
        ],
        at: "",
        kind: OnlyInWarden,
        why: "warden's sessions: list them, log out everywhere or one session",
    },
    Divergence {
        ops: &[
            "GET /users/me/oauth-accounts",
            "DELETE /users/me/oauth-accounts/{oauth_name}/{account_id}",
        ],
        at: "",
        kind: OnlyInWarden,
        why: "warden's linked provider accounts: list them (never their tokens) and unlink one, never the last way in",
    },
    Divergence {
        ops: &[
            "GET /users",
            "POST /users/{id}/ban",
            "POST /users/{id}/unban",
            "POST /users/{id}/impersonate",
        ],
        at: "",
        kind: OnlyInWarden,
        why: "warden's admin routes for fresh superusers: the user list, bans, impersonation",
    },
    Divergence {
        ops: &[
            "POST /auth/jwt/stop-impersonating",
            "POST /auth/cookie/stop-impersonating",
        ],
        at: "",
        kind: OnlyInWarden,
        why: "ends an impersonation; the cookie transport gets the superuser's own token back",
    },
    // More accepted, more answered.
    Divergence {
        ops: LOGINS,
        at: "requestBody > content > application/json",
        kind: OnlyInWarden,
        why: "login also takes the form's two fields as JSON; the form is FastAPI Users'",
    },
    Divergence {
        ops: &["POST /auth/jwt/login"],
        at: "responses > 200 > content > application/json > schema > properties > refresh_token",
        kind: OnlyInWarden,
        why: "an optional field: only backends with refresh tokens send it",
    },
    Divergence {
        ops: &["POST /auth/jwt/login"],
        at: "responses > 200 > content > application/json > schema > properties > expires_in",
        kind: OnlyInWarden,
        why: "an optional field: the access token's lifetime (RFC 6749 section 5.1)",
    },
    Divergence {
        ops: LOGINS,
        at: "responses > 400 > content > application/json > error codes > LOGIN_USER_BANNED",
        kind: OnlyInWarden,
        why: "warden's bans: the right password of a banned user learns the ban's end",
    },
    // Error answers documented with their bodies and headers.
    Divergence {
        ops: LOGGED_IN,
        at: "responses > 401 > content",
        kind: OnlyInWarden,
        why: "documents the {\"detail\": \"Unauthorized\"} body FastAPI Users sends but does not document",
    },
    Divergence {
        ops: LOGGED_IN,
        at: "responses > 401 > headers",
        kind: OnlyInWarden,
        why: "warden's 401 carries WWW-Authenticate: Bearer (RFC 6750); FastAPI Users' none",
    },
    Divergence {
        ops: ASSOCIATE,
        at: "responses > 401",
        kind: OnlyInWarden,
        why: "the associate routes need an active user, as FastAPI Users' do, which document no 401",
    },
    Divergence {
        ops: BY_ID,
        at: "responses > 403 > content",
        kind: OnlyInWarden,
        why: "documents the {\"detail\": \"Forbidden\"} body FastAPI Users sends",
    },
    Divergence {
        ops: BY_ID,
        at: "responses > 404 > content",
        kind: OnlyInWarden,
        why: "documents the {\"detail\": \"Not Found\"} body FastAPI Users sends",
    },
    Divergence {
        ops: BAD_REQUEST,
        at: "responses > 400 > content > application/json > schema > properties > detail > anyOf",
        kind: Differs,
        why: "the object form of `detail` is named as sent, {code, reason}; FastAPI Users' model \
              says dict[str, str]",
    },
    Divergence {
        ops: VALIDATION,
        at: "responses > 422 > content > application/json > schema > properties > detail > items > properties > input",
        kind: OnlyInFastApiUsers,
        why: "warden's 422 entries are {type, loc, msg}: the submitted input is never echoed",
    },
    Divergence {
        ops: VALIDATION,
        at: "responses > 422 > content > application/json > schema > properties > detail > items > properties > ctx",
        kind: OnlyInFastApiUsers,
        why: "warden's 422 entries are {type, loc, msg}: no pydantic `ctx`",
    },
    // The statuses that are sent, rather than FastAPI's default 200.
    Divergence {
        ops: &[
            "POST /auth/jwt/logout",
            "POST /auth/cookie/login",
            "POST /auth/cookie/logout",
        ],
        at: "responses > 200",
        kind: OnlyInFastApiUsers,
        why: "FastAPI adds its default 200, which these routes never send: they answer 204",
    },
    Divergence {
        ops: &["POST /auth/jwt/logout"],
        at: "responses > 204",
        kind: OnlyInWarden,
        why: "a bearer logout answers 204 in both (FastAPI Users' transport documents nothing)",
    },
    Divergence {
        ops: COOKIE_ROUTES,
        at: "responses > 204 > headers",
        kind: OnlyInWarden,
        why: "documents the Set-Cookie header the cookie transport sends",
    },
    Divergence {
        ops: &[
            "POST /auth/forgot-password",
            "POST /auth/request-verify-token",
        ],
        at: "responses > 202 > content > application/json > schema > type",
        kind: OnlyInWarden,
        why: "the body is `null` in both; FastAPI Users' route has no response model, so `{}`",
    },
    Divergence {
        ops: &["POST /auth/reset-password"],
        at: "responses > 200 > content > application/json > schema > type",
        kind: OnlyInWarden,
        why: "the body is `null` in both; FastAPI Users' route has no response model, so `{}`",
    },
    // Narrower where warden is stricter or more precise.
    Divergence {
        ops: LOGOUTS,
        at: "security",
        kind: Differs,
        why: "a backend's logout takes its own token only; FastAPI Users' takes any backend's and \
              hands it to this backend's strategy",
    },
    Divergence {
        ops: BY_ID,
        at: "parameters > path id > schema > format",
        kind: OnlyInWarden,
        why: "the id typed as the user model's (a UUID); FastAPI Users takes a str (malformed: 404 in both)",
    },
    Divergence {
        ops: CALLBACKS,
        at: "parameters > query code_verifier",
        kind: OnlyInFastApiUsers,
        why: "warden makes the PKCE verifier itself, from the state; one in the query is ignored",
    },
    // The OAuth callbacks' error codes: those sent, in both.
    Divergence {
        ops: CALLBACKS,
        at: "responses > 400 > content > application/json > error codes > INVALID_STATE_TOKEN",
        kind: OnlyInFastApiUsers,
        why: "FastAPI Users documents an example without a value, for a code it never sends",
    },
    Divergence {
        ops: CALLBACKS,
        at: "responses > 400 > content > application/json > error codes > OAUTH_INVALID_STATE",
        kind: OnlyInWarden,
        why: "sent by both when the CSRF cookie is missing or differs; FastAPI Users does not document it",
    },
    Divergence {
        ops: CALLBACKS,
        at: "responses > 400 > content > application/json > error codes > OAUTH_NOT_AVAILABLE_EMAIL",
        kind: OnlyInWarden,
        why: "sent by both when the provider gives no e-mail; FastAPI Users does not document it",
    },
    Divergence {
        ops: &["GET /auth/oidc/callback"],
        at: "responses > 400 > content > application/json > error codes > OAUTH_USER_ALREADY_EXISTS",
        kind: OnlyInWarden,
        why: "sent by both when a local user has the e-mail; FastAPI Users does not document it",
    },
    Divergence {
        ops: &["GET /auth/associate/oidc/callback"],
        at: "responses > 400 > content > application/json > error codes > OAUTH_ACCOUNT_ALREADY_LINKED",
        kind: OnlyInWarden,
        why: "warden refuses a provider account linked to another user; FastAPI Users links it again",
    },
];

/// One difference found.
struct Diff {
    op: String,
    at: String,
    kind: Kind,
    warden: Option<Value>,
    fastapi_users: Option<Value>,
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |value: &Option<Value>| {
            value
                .as_ref()
                .map_or_else(String::new, |value| value.to_string())
        };
        let at = if self.at.is_empty() {
            "(all)"
        } else {
            &self.at
        };
        match self.kind {
            OnlyInWarden => write!(
                f,
                "{} | {at} | only in warden: {}",
                self.op,
                show(&self.warden)
            ),
            OnlyInFastApiUsers => write!(
                f,
                "{} | {at} | only in FastAPI Users: {}",
                self.op,
                show(&self.fastapi_users)
            ),
            Differs => write!(
                f,
                "{} | {at} | warden: {} | FastAPI Users: {}",
                self.op,
                show(&self.warden),
                show(&self.fastapi_users)
            ),
        }
    }
}

/// Schema keywords that are prose, not structure.
const PROSE: &[&str] = &["title", "description"];

/// `schema` with its `$ref`s resolved against `doc`'s components and normalised:
/// prose dropped, `anyOf: [X, {type: null}]` as `type: [X, "null"]`, type arrays and
/// `required` sorted.
fn schema(doc: &Value, value: &Value, resolving: &mut Vec<String>) -> Value {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let name = target
                    .strip_prefix("#/components/schemas/")
                    .unwrap_or_else(|| panic!("unexpected $ref {target}"));
                if resolving.iter().any(|seen| seen == name) {
                    // A recursive schema: stop at the second visit.
                    return json!({ "$ref": name });
                }
                let target = doc["components"]["schemas"]
                    .get(name)
                    .unwrap_or_else(|| panic!("dangling $ref {name}"));
                resolving.push(name.to_owned());
                let resolved = schema(doc, target, resolving);
                resolving.pop();
                return resolved;
            }
            let mut out = Map::new();
            for (key, value) in map {
                if PROSE.contains(&key.as_str()) {
                    continue;
                }
                let value = match (key.as_str(), value) {
                    // Property names are data: a field may be called `title`.
                    ("properties", Value::Object(properties)) => Value::Object(
                        properties
                            .iter()
                            .map(|(name, property)| {
                                (name.clone(), schema(doc, property, resolving))
                            })
                            .collect(),
                    ),
                    ("required", Value::Array(names)) => {
                        let mut names = names.clone();
                        names.sort_by_key(Value::to_string);
                        Value::Array(names)
                    }
                    _ => schema(doc, value, resolving),
                };
                out.insert(key.clone(), value);
            }
            collapse_nullable(&mut out);
            if let Some(Value::Array(types)) = out.get_mut("type") {
                types.sort_by_key(Value::to_string);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| schema(doc, item, resolving))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `{anyOf: [{type: X, ...}, {type: null}], ...}` → `{type: [X, "null"], ...}`:
/// FastAPI's spelling of `Optional[X]` and the JSON Schema type array say the same.
fn collapse_nullable(map: &mut Map<String, Value>) {
    let Some(Value::Array(items)) = map.get("anyOf") else {
        return;
    };
    let null = json!({ "type": "null" });
    let [first, second] = items.as_slice() else {
        return;
    };
    let other = if *second == null {
        first
    } else if *first == null {
        second
    } else {
        return;
    };
    let Some(other) = other.as_object() else {
        return;
    };
    let Some(Value::String(other_type)) = other.get("type") else {
        return;
    };
    if other
        .keys()
        .any(|key| key != "type" && map.contains_key(key))
    {
        return;
    }
    let mut merged = map.clone();
    merged.remove("anyOf");
    for (key, value) in other {
        merged.insert(key.clone(), value.clone());
    }
    merged.insert("type".into(), json!([other_type, "null"]));
    *map = merged;
}

/// The error code an example's value carries: `{"detail": "CODE"}` or
/// `{"detail": {"code": "CODE", "reason": ...}}`.
fn detail_code(value: &Value) -> Option<Value> {
    match value.get("detail")? {
        Value::String(code) => Some(Value::from(code.as_str())),
        Value::Object(detail) => detail.get("code").cloned(),
        _ => None,
    }
}

/// What of one operation is compared, normalised.
fn view(doc: &Value, op: &Value) -> Value {
    let mut view = Map::new();
    for key in ["operationId", "tags"] {
        if let Some(value) = op.get(key) {
            view.insert(key.into(), value.clone());
        }
    }
    if let Some(security) = op.get("security").and_then(Value::as_array) {
        let names: Vec<Value> = security
            .iter()
            .map(|requirement| {
                let names: Vec<&String> = requirement
                    .as_object()
                    .map(|r| r.keys().collect())
                    .unwrap_or_default();
                json!(names)
            })
            .collect();
        view.insert("security".into(), Value::Array(names));
    }
    if let Some(parameters) = op.get("parameters").and_then(Value::as_array) {
        let parameters: Map<String, Value> = parameters
            .iter()
            .map(|parameter| {
                let key = format!(
                    "{} {}",
                    parameter["in"].as_str().unwrap_or("?"),
                    parameter["name"].as_str().unwrap_or("?")
                );
                let value = json!({
                    "required": parameter.get("required").cloned().unwrap_or(json!(false)),
                    "schema": schema(doc, &parameter["schema"], &mut Vec::new()),
                });
                (key, value)
            })
            .collect();
        view.insert("parameters".into(), Value::Object(parameters));
    }
    if let Some(body) = op.get("requestBody") {
        let content: Map<String, Value> = body["content"]
            .as_object()
            .map(|content| {
                content
                    .iter()
                    .map(|(media, value)| {
                        (
                            media.clone(),
                            schema(doc, &value["schema"], &mut Vec::new()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        view.insert(
            "requestBody".into(),
            json!({
                "required": body.get("required").cloned().unwrap_or(json!(false)),
                "content": content,
            }),
        );
    }
    let mut responses = Map::new();
    for (status, response) in op["responses"].as_object().into_iter().flatten() {
        let mut out = Map::new();
        if let Some(content) = response.get("content").and_then(Value::as_object) {
            let content: Map<String, Value> = content
                .iter()
                .map(|(media, value)| {
                    let mut media_view = Map::new();
                    if let Some(value) = value.get("schema") {
                        media_view.insert("schema".into(), schema(doc, value, &mut Vec::new()));
                    }
                    let mut examples = Map::new();
                    for (name, example) in value
                        .get("examples")
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                    {
                        let code = example.get("value").and_then(detail_code);
                        examples.insert(name.clone(), code.unwrap_or(Value::Null));
                    }
                    if let Some(code) = value.get("example").and_then(detail_code) {
                        examples.insert("(example)".into(), code);
                    }
                    if !examples.is_empty() {
                        media_view.insert("error codes".into(), Value::Object(examples));
                    }
                    (media.clone(), Value::Object(media_view))
                })
                .collect();
            out.insert("content".into(), Value::Object(content));
        }
        if let Some(headers) = response.get("headers").and_then(Value::as_object) {
            let headers: Map<String, Value> = headers
                .iter()
                .map(|(name, header)| {
                    (
                        name.clone(),
                        schema(doc, &header["schema"], &mut Vec::new()),
                    )
                })
                .collect();
            out.insert("headers".into(), Value::Object(headers));
        }
        responses.insert(status.clone(), Value::Object(out));
    }
    view.insert("responses".into(), Value::Object(responses));
    Value::Object(view)
}

/// Every operation of `doc`: `METHOD /path` → its view.
fn operations(doc: &Value) -> BTreeMap<String, Value> {
    const METHODS: &[&str] = &[
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut ops = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("the document has paths") {
        for (method, op) in item.as_object().expect("a path item is an object") {
            assert!(METHODS.contains(&method.as_str()), "{path}: {method}");
            ops.insert(
                format!("{} {path}", method.to_ascii_uppercase()),
                view(doc, op),
            );
        }
    }
    ops
}

/// The leaf-most differences between `warden` and `fastapi_users` below `at`.
fn diff(
    op: &str,
    at: &mut Vec<String>,
    warden: &Value,
    fastapi_users: &Value,
    out: &mut Vec<Diff>,
) {
    let push = |out: &mut Vec<Diff>,
                at: &[String],
                kind,
                warden: Option<&Value>,
                fastapi_users: Option<&Value>| {
        out.push(Diff {
            op: op.to_owned(),
            at: at.join(" > "),
            kind,
            warden: warden.cloned(),
            fastapi_users: fastapi_users.cloned(),
        });
    };
    match (warden, fastapi_users) {
        (Value::Object(w), Value::Object(f)) => {
            let mut keys: Vec<&String> = w.keys().chain(f.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                at.push(key.clone());
                match (w.get(key), f.get(key)) {
                    (Some(w), Some(f)) => diff(op, at, w, f, out),
                    (Some(w), None) => push(out, at, OnlyInWarden, Some(w), None),
                    (None, Some(f)) => push(out, at, OnlyInFastApiUsers, None, Some(f)),
                    (None, None) => unreachable!(),
                }
                at.pop();
            }
        }
        (w, f) if w == f => {}
        (w, f) => push(out, at, Differs, Some(w), Some(f)),
    }
}

/// Every difference between the two documents.
fn differences(warden: &Value, fastapi_users: &Value) -> Vec<Diff> {
    let warden_ops = operations(warden);
    let fastapi_users_ops = operations(fastapi_users);
    let mut out = Vec::new();
    let mut keys: Vec<&String> = warden_ops.keys().chain(fastapi_users_ops.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let (warden_op, fastapi_users_op) = (warden_ops.get(key), fastapi_users_ops.get(key));
        match (warden_op, fastapi_users_op) {
            (Some(w), Some(f)) => diff(key, &mut Vec::new(), w, f, &mut out),
            (w, f) => out.push(Diff {
                op: key.clone(),
                at: String::new(),
                kind: if w.is_some() {
                    OnlyInWarden
                } else {
                    OnlyInFastApiUsers
                },
                warden: w.cloned(),
                fastapi_users: f.cloned(),
            }),
        }
    }
    diff(
        "components",
        &mut vec!["securitySchemes".to_owned()],
        &warden["components"]["securitySchemes"],
        &fastapi_users["components"]["securitySchemes"],
        &mut out,
    );
    out
}

/// The unexplained differences and the stated divergences that did not occur, as
/// readable lines; empty when the documents agree but for [`DIVERGENCES`].
fn unexplained(diffs: &[Diff], divergences: &[Divergence]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut seen: BTreeMap<(usize, &str), usize> = BTreeMap::new();
    for d in diffs {
        let stated = divergences.iter().enumerate().find(|(_, divergence)| {
            divergence.at == d.at
                && divergence.kind == d.kind
                && divergence.ops.contains(&d.op.as_str())
        });
        match stated {
            Some((index, divergence)) => {
                let op = divergence
                    .ops
                    .iter()
                    .find(|op| **op == d.op)
                    .expect("matched by op");
                *seen.entry((index, op)).or_default() += 1;
            }
            None => lines.push(format!("unexplained: {d}")),
        }
    }
    for (index, divergence) in divergences.iter().enumerate() {
        for op in divergence.ops {
            match seen.get(&(index, op)).copied().unwrap_or(0) {
                1 => {}
                0 => lines.push(format!(
                    "stated but not found: {op} | {} | {:?} ({})",
                    divergence.at, divergence.kind, divergence.why
                )),
                n => lines.push(format!(
                    "stated once, found {n} times: {op} | {} | {:?}",
                    divergence.at, divergence.kind
                )),
            }
        }
    }
    lines
}

/// The equivalent warden app, served; its `/openapi.json`.
async fn warden_document() -> Value {
    let options = || OAuthOptions::new("http://127.0.0.1:9", STATE_SECRET);
    let warden: Warden = Warden::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .backend::<Cookie>()
        .unwrap()
        .reset_password(TokenSettings::new("reset-secret-that-is-at-least-32-bytes"))
        .verification(TokenSettings::new(
            "verify-secret-that-is-at-least-32-bytes",
        ))
        .oauth::<Oidc, Jwt>(options())
        .unwrap()
        .oauth_associate::<Oidc>(options())
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(serve(common::app(&warden)).await);
    let reply = http.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()
}

fn fastapi_users_document() -> Value {
    serde_json::from_str(FASTAPI_USERS).expect("the fixture is JSON")
}

#[tokio::test]
async fn warden_document_is_fastapi_users_but_for_the_stated_divergences() {
    let warden = warden_document().await;
    let fastapi_users = fastapi_users_document();
    let diffs = differences(&warden, &fastapi_users);
    let lines = unexplained(&diffs, DIVERGENCES);
    assert!(
        lines.is_empty(),
        "warden's /openapi.json differs from FastAPI Users 15.0.5's \
         (METHOD /path | where | what):\n{}",
        lines.join("\n")
    );
}

#[test]
fn the_fixture_is_fastapi_users_document_of_the_whole_app() {
    let doc = fastapi_users_document();
    assert_eq!(doc["openapi"], "3.1.0");
    let ops: Vec<String> = operations(&doc).into_keys().collect();
    assert_eq!(
        ops,
        [
            "DELETE /users/{id}",
            "GET /auth/associate/oidc/authorize",
            "GET /auth/associate/oidc/callback",
            "GET /auth/oidc/authorize",
            "GET /auth/oidc/callback",
            "GET /users/me",
            "GET /users/{id}",
            "PATCH /users/me",
            "PATCH /users/{id}",
            "POST /auth/cookie/login",
            "POST /auth/cookie/logout",
            "POST /auth/forgot-password",
            "POST /auth/jwt/login",
            "POST /auth/jwt/logout",
            "POST /auth/register",
            "POST /auth/request-verify-token",
            "POST /auth/reset-password",
            "POST /auth/verify",
        ]
    );
}

#[test]
fn the_comparison_sees_what_it_claims_to() {
    let doc = fastapi_users_document();
    assert!(differences(&doc, &doc).is_empty());

    // Normalisation: titles and prose go, `anyOf` with null is a type array.
    let mut spelled = doc.clone();
    let email = &mut spelled["components"]["schemas"]["UserUpdate"]["properties"]["email"];
    *email = json!({ "type": ["string", "null"], "format": "email", "description": "new" });
    spelled["paths"]["/users/me"]["get"]["summary"] = json!("Another summary");
    assert!(differences(&spelled, &doc).is_empty());

    // Each kind of difference is found, where it is.
    let mut changed = doc.clone();
    changed["paths"]["/auth/jwt/login"]["post"]["operationId"] = json!("login");
    changed["components"]["schemas"]["UserRead"]["required"] = json!(["id"]);
    let bad_request = &mut changed["paths"]["/auth/verify"]["post"]["responses"]["400"];
    bad_request["content"]["application/json"]["examples"]["VERIFY_USER_BAD_TOKEN"]["value"] =
        json!({ "detail": "OTHER_CODE" });
    changed["paths"]["/users/{id}"]["get"]["parameters"][0]["required"] = json!(false);
    let logout = changed["paths"]["/auth/jwt/logout"]
        .as_object_mut()
        .unwrap();
    let post = logout.remove("post").unwrap();
    logout.insert("put".into(), post);
    let found: Vec<String> = differences(&changed, &doc)
        .iter()
        .map(ToString::to_string)
        .collect();
    let user_read_required = |op: &str, status: &str| {
        format!(
            "{op} | responses > {status} > content > application/json > schema > required | \
             warden: [\"id\"] | FastAPI Users: [\"email\",\"id\"]"
        )
    };
    let mut expected = vec![
        "POST /auth/jwt/login | operationId | warden: \"login\" | FastAPI Users: \
         \"auth_jwt_login_auth_jwt_login_post\""
            .to_owned(),
        "POST /auth/verify | responses > 400 > content > application/json > error codes > \
         VERIFY_USER_BAD_TOKEN | warden: \"OTHER_CODE\" | FastAPI Users: \"VERIFY_USER_BAD_TOKEN\""
            .to_owned(),
        "GET /users/{id} | parameters > path id > required | warden: false | FastAPI Users: true"
            .to_owned(),
    ];
    for (op, status) in [
        ("GET /auth/associate/oidc/callback", "200"),
        ("GET /users/me", "200"),
        ("GET /users/{id}", "200"),
        ("PATCH /users/me", "200"),
        ("PATCH /users/{id}", "200"),
        ("POST /auth/register", "201"),
        ("POST /auth/verify", "200"),
    ] {
        expected.push(user_read_required(op, status));
    }
    assert_eq!(found.len(), expected.len() + 2, "{found:#?}");
    for line in &expected {
        assert!(found.contains(line), "{line}\nnot in {found:#?}");
    }
    assert!(
        found
            .iter()
            .any(|line| line.starts_with("POST /auth/jwt/logout | (all) | only in FastAPI Users:")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|line| line.starts_with("PUT /auth/jwt/logout | (all) | only in warden:")),
        "{found:#?}"
    );

    // A stated divergence that does not occur is reported, as is one that does not
    // match.
    let stale = [Divergence {
        ops: &["POST /auth/register"],
        at: "tags",
        kind: Differs,
        why: "test",
    }];
    assert_eq!(
        unexplained(&differences(&doc, &doc), &stale),
        ["stated but not found: POST /auth/register | tags | Differs (test)"]
    );
}
