//! The two-factor routes in the route inventory: with a second factor configured,
//! `/openapi.json` documents every route it adds (their schemas resolving) and the
//! login's 403 `LOGIN_2FA_REQUIRED`, the route table lists the same routes, and the
//! router serves them; without one, none of it is there and the document is what it
//! was (the rest of it is compared with FastAPI Users' in
//! `tests/openapi_fastapi_users.rs`).

mod common;

use std::collections::BTreeSet;

use common::{Http, Jwt, serve};
use reqwest::Method;
use serde_json::{Value, json};
use warden::second_factor::TwoFactor;
use warden::{MemoryStore, Warden, auth_backend};

/// A cookie backend beside the bearer one: both get a second step.
#[auth_backend(
    name = "cookie",
    lifetime = 3600,
    secret = "test-secret-that-is-at-least-32-bytes-long",
    transport = cookie
)]
struct Cookie;

/// What the second factor adds: `(method, path)`.
const TWO_FACTOR_ROUTES: &[(&str, &str)] = &[
    ("POST", "/auth/jwt/login/2fa"),
    ("POST", "/auth/cookie/login/2fa"),
    ("GET", "/users/me/2fa"),
    ("POST", "/users/me/2fa/totp"),
    ("POST", "/users/me/2fa/totp/confirm"),
    ("POST", "/users/me/2fa/recovery-codes"),
    ("POST", "/users/me/2fa/disable"),
    ("POST", "/users/me/2fa/forget-devices"),
    ("DELETE", "/users/{id}/2fa"),
];

fn warden(two_factor: bool) -> Warden {
    let builder = Warden::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .backend::<Cookie>()
        .unwrap();
    let builder = if two_factor {
        builder.two_factor(
            TwoFactor::totp("OpenAPI").secret("a-two-factor-secret-of-at-least-32-bytes"),
        )
    } else {
        builder
    };
    builder.build().unwrap()
}

/// The served document and the server.
async fn document(warden: &Warden) -> (Value, Http) {
    let http = Http::new(serve(common::app(warden)).await);
    let reply = http.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    (reply.json(), http)
}

/// Every `(METHOD, path)` the document has.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|key| ["get", "post", "put", "patch", "delete"].contains(&key.as_str()))
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

/// Every `$ref` under `value`, which must name a schema of `doc`'s components.
fn assert_refs_resolve(doc: &Value, value: &Value, at: &str) {
    match value {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref") {
                let reference = reference.as_str().unwrap();
                let name = reference
                    .strip_prefix("#/components/schemas/")
                    .unwrap_or_else(|| panic!("{at}: {reference}"));
                let schema = &doc["components"]["schemas"][name];
                assert!(schema.is_object(), "{at}: {reference} resolves to nothing");
            }
            for (key, inner) in map {
                assert_refs_resolve(doc, inner, &format!("{at} > {key}"));
            }
        }
        Value::Array(items) => {
            for item in items {
                assert_refs_resolve(doc, item, at);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn with_two_factor_every_route_is_documented_listed_and_served() {
    let warden = warden(true);
    let (doc, http) = document(&warden).await;
    let documented = operations(&doc);
    let table: BTreeSet<(String, String)> = warden
        .route_table()
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    for (method, path) in TWO_FACTOR_ROUTES {
        let key = ((*method).to_owned(), (*path).to_owned());
        assert!(documented.contains(&key), "not documented: {method} {path}");
        assert!(
            table.contains(&key),
            "not in the route table: {method} {path}"
        );
        let operation = &doc["paths"][*path][method.to_lowercase()];
        assert_refs_resolve(&doc, operation, &format!("{method} {path}"));
        // Served: anything but the router's 404/405 (these answer 401 or 422).
        let path = path.replace("{id}", "5b7cf2a6-4c4a-4f2b-9d0b-1d2f3e4a5b6c");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let reply = http
            .send(method.clone(), &path, None, Some(&json!({})))
            .await;
        assert!(
            ![404, 405].contains(&reply.status),
            "{method} {path}: {} {}",
            reply.status,
            reply.text
        );
    }
    // The route table and the document agree on every documented route.
    for operation in &documented {
        assert!(
            table.contains(operation),
            "documented, not listed: {operation:?}"
        );
    }
    assert_refs_resolve(&doc, &doc, "the document");

    // The login's 403: the challenge, documented as warden's own answer.
    for backend in ["jwt", "cookie"] {
        let forbidden = &doc["paths"][format!("/auth/{backend}/login")]["post"]["responses"]["403"];
        let content = &forbidden["content"]["application/json"];
        assert_eq!(
            content["example"],
            json!({"detail": "LOGIN_2FA_REQUIRED", "error": "mfa_required", "mfa_token": "Wq3nO0b9..."}),
            "{backend}: {forbidden}"
        );
        let schema = &content["schema"];
        let schema = match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                &doc["components"]["schemas"][reference.trim_start_matches("#/components/schemas/")]
            }
            None => schema,
        };
        let properties: BTreeSet<&str> = schema["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{schema}"))
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            properties,
            BTreeSet::from(["detail", "error", "mfa_token"]),
            "{schema}"
        );
    }
}

/// `doc` without what the second factor adds: its routes, and the login's 403 and
/// second-step error codes.
fn without_two_factor(mut doc: Value) -> Value {
    let paths = doc["paths"].as_object_mut().unwrap();
    for (method, path) in TWO_FACTOR_ROUTES {
        if let Some(item) = paths.get_mut(*path) {
            let item = item.as_object_mut().unwrap();
            item.remove(&method.to_lowercase());
            if !item
                .keys()
                .any(|key| ["get", "post", "put", "patch", "delete"].contains(&key.as_str()))
            {
                paths.remove(*path);
            }
        }
    }
    doc
}

#[tokio::test]
async fn without_two_factor_none_of_it_is_there() {
    let off = warden(false);
    let (doc, http) = document(&off).await;
    let documented = operations(&doc);
    let table: BTreeSet<(String, String)> = off
        .route_table()
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    for (method, path) in TWO_FACTOR_ROUTES {
        let key = ((*method).to_owned(), (*path).to_owned());
        assert!(!documented.contains(&key), "{method} {path}");
        assert!(!table.contains(&key), "{method} {path}");
        let path = path.replace("{id}", "5b7cf2a6-4c4a-4f2b-9d0b-1d2f3e4a5b6c");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let reply = http
            .send(method.clone(), &path, None, Some(&json!({})))
            .await;
        assert!(
            [404, 405].contains(&reply.status),
            "{method} {path}: {} {}",
            reply.status,
            reply.text
        );
    }
    for backend in ["jwt", "cookie"] {
        let responses = &doc["paths"][format!("/auth/{backend}/login")]["post"]["responses"];
        assert!(responses.get("403").is_none(), "{responses}");
        assert!(!responses.to_string().contains("LOGIN_2FA"), "{responses}");
    }
    assert!(
        !doc.to_string().contains("2fa"),
        "no trace of the second factor"
    );

    // Every path the document had without the second factor it has with one, the
    // same, but the login's.
    let (on, _) = document(&warden(true)).await;
    let on = without_two_factor(on);
    let on_paths = on["paths"].as_object().unwrap();
    let off_paths = doc["paths"].as_object().unwrap();
    assert_eq!(
        on_paths.keys().collect::<BTreeSet<_>>(),
        off_paths.keys().collect::<BTreeSet<_>>()
    );
    for (path, item) in off_paths {
        if path.ends_with("/login") {
            continue;
        }
        assert_eq!(&on_paths[path], item, "{path}");
    }
}
