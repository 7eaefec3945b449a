//! End-to-end HTTP tests of warden's routes and the demo guards, over a real server
//! with the in-memory store: exact status codes, headers and JSON bodies, as FastAPI
//! Users answers them (FastAPI Users' auth, register and users routers), with warden's documented
//! differences.

mod common;

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use common::{Reply, Server, assert_forbidden, assert_token_refused, assert_unauthorized};

const PASSWORD: &str = "correct horse battery";

/// `method path` with an optional content type, body and `Authorization` values
/// (each one a separate header line).
async fn send(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    content_type: Option<&str>,
    body: Option<Vec<u8>>,
    authorization: &[&str],
) -> Reply {
    let mut request = server.client.request(method, server.url(path));
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    for value in authorization {
        request = request.header(AUTHORIZATION, *value);
    }
    Reply::read(request.send().await.unwrap()).await
}

async fn post_json(server: &Server, path: &str, body: &Value) -> Reply {
    let body = serde_json::to_vec(body).unwrap();
    send(
        server,
        reqwest::Method::POST,
        path,
        Some("application/json"),
        Some(body),
        &[],
    )
    .await
}

async fn post_form(server: &Server, path: &str, body: &str) -> Reply {
    send(
        server,
        reqwest::Method::POST,
        path,
        Some("application/x-www-form-urlencoded"),
        Some(body.as_bytes().to_vec()),
        &[],
    )
    .await
}

async fn post_bearer(server: &Server, path: &str, token: Option<&str>) -> Reply {
    let header = token.map(|t| format!("Bearer {t}"));
    let auth: Vec<&str> = header.iter().map(String::as_str).collect();
    send(server, reqwest::Method::POST, path, None, None, &auth).await
}

async fn get_auth(server: &Server, path: &str, authorization: &[&str]) -> Reply {
    send(
        server,
        reqwest::Method::GET,
        path,
        None,
        None,
        authorization,
    )
    .await
}

/// Asserts a `UserRead` body: exactly these fields, `id` a UUID. Returns the id.
#[track_caller]
fn assert_user_read(
    body: &Value,
    email: &str,
    is_active: bool,
    is_superuser: bool,
    is_verified: bool,
) -> Uuid {
    let mut rest = body.clone();
    let id = rest
        .as_object_mut()
        .unwrap_or_else(|| panic!("not an object: {body}"))
        .remove("id")
        .unwrap_or_else(|| panic!("no id: {body}"));
    assert_eq!(
        rest,
        json!({
            "email": email,
            "is_active": is_active,
            "is_superuser": is_superuser,
            "is_verified": is_verified,
        }),
        "{body}"
    );
    Uuid::parse_str(
        id.as_str()
            .unwrap_or_else(|| panic!("id not a string: {body}")),
    )
    .unwrap_or_else(|e| panic!("id not a UUID ({e}): {body}"))
}

/// Asserts a login response and returns its access token.
#[track_caller]
fn assert_login_response(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let mut body = reply.json();
    let token = body
        .as_object_mut()
        .unwrap()
        .remove("access_token")
        .unwrap_or_else(|| panic!("no access_token: {}", reply.text));
    assert_eq!(body, json!({"token_type": "bearer"}));
    let token = token.as_str().unwrap().to_owned();
    assert_eq!(token.split('.').count(), 3, "not a JWS: {token}");
    token
}

/// A 422 whose list is exactly `errors`.
#[track_caller]
fn assert_validation(reply: &Reply, errors: Value) {
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(reply.json(), json!({ "detail": errors }));
}

/// A 422 with a one-entry list of this `type` at `loc`, and some message.
#[track_caller]
fn assert_validation_type(reply: &Reply, kind: &str, loc: Value) {
    assert_eq!(reply.status, 422, "{}", reply.text);
    let body = reply.json();
    let list = body["detail"]
        .as_array()
        .unwrap_or_else(|| panic!("detail is not a list: {body}"));
    assert_eq!(list.len(), 1, "{body}");
    let entry = list[0].as_object().unwrap();
    let mut keys: Vec<&str> = entry.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["loc", "msg", "type"], "{body}");
    assert_eq!(entry["type"], kind, "{body}");
    assert_eq!(entry["loc"], loc, "{body}");
    assert!(
        entry["msg"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// The claims of a token, unverified.
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn login_json(server: &Server, username: &str, password: &str) -> Reply {
    post_json(
        server,
        "/auth/jwt/login",
        &json!({"username": username, "password": password}),
    )
    .await
}

async fn login_form(server: &Server, username: &str, password: &str) -> Reply {
    let body = format!(
        "username={}&password={}",
        common::urlencode(username),
        common::urlencode(password)
    );
    post_form(server, "/auth/jwt/login", &body).await
}

// ---------------------------------------------------------------------------------
// POST /auth/register
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn register_returns_201_user_read() {
    let server = common::spawn().await;
    let reply = post_json(
        &server,
        "/auth/register",
        &json!({"email": "ann@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    let id = assert_user_read(&body, "ann@example.com", true, false, false);
    assert!(body.get("hashed_password").is_none() && body.get("password").is_none());
    assert!(!reply.text.contains("argon2") && !reply.text.contains(PASSWORD));

    let stored = server
        .warden
        .manager()
        .store()
        .get(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.email, "ann@example.com");
    assert!(stored.hashed_password.starts_with("$argon2id$"));
}

#[tokio::test]
async fn register_ignores_privileged_flags() {
    let server = common::spawn().await;
    let reply = post_json(
        &server,
        "/auth/register",
        &json!({
            "email": "mallory@example.com",
            "password": PASSWORD,
            "is_superuser": true,
            "is_active": false,
            "is_verified": true,
        }),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let id = assert_user_read(&reply.json(), "mallory@example.com", true, false, false);

    // The stored user has the defaults too: it can log in (active) and is refused
    // by the superuser and verified guards.
    let token = assert_login_response(&login_form(&server, "mallory@example.com", PASSWORD).await);
    let (status, me) = server.get("/users/me", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(
        assert_user_read(&me, "mallory@example.com", true, false, false),
        id
    );
    assert_forbidden(&get_auth(&server, "/superuser-route", &[&format!("Bearer {token}")]).await);
    assert_forbidden(&get_auth(&server, "/verified-route", &[&format!("Bearer {token}")]).await);
}

#[tokio::test]
async fn register_lowercases_the_domain_only() {
    let server = common::spawn().await;
    let (status, body) = server
        .register("King.Arthur@Camelot.ORG", "excalibur-sword")
        .await;
    assert_eq!(status, 201, "{body}");
    let id = assert_user_read(&body, "King.Arthur@camelot.org", true, false, false);

    // Lookups are case-insensitive, the local part as stored is kept.
    let token = assert_login_response(
        &login_form(&server, "king.arthur@CAMELOT.org", "excalibur-sword").await,
    );
    let (status, me) = server.get("/users/me", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(
        assert_user_read(&me, "King.Arthur@camelot.org", true, false, false),
        id
    );
}

#[tokio::test]
async fn register_duplicate_email_in_another_case_is_400() {
    let server = common::spawn().await;
    let (status, body) = server.register("dup@example.com", PASSWORD).await;
    assert_eq!(status, 201, "{body}");
    for email in ["dup@example.com", "DUP@example.com", "Dup@EXAMPLE.COM"] {
        let reply = post_json(
            &server,
            "/auth/register",
            &json!({"email": email, "password": "another-password"}),
        )
        .await;
        assert_eq!(reply.status, 400, "{email}: {}", reply.text);
        assert_eq!(
            reply.json(),
            json!({"detail": "REGISTER_USER_ALREADY_EXISTS"})
        );
    }
    // The first user's password is untouched.
    assert_login_response(&login_form(&server, "dup@example.com", PASSWORD).await);
    assert_eq!(
        login_form(&server, "dup@example.com", "another-password")
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn register_short_password_is_400_with_reason() {
    let server = common::spawn().await;
    let short = json!({"detail": {
        "code": "REGISTER_INVALID_PASSWORD",
        "reason": "Password should be at least 8 characters",
    }});
    // Seven characters, whatever their byte length (Python's len()).
    for password in ["", "short", "1234567", "ééééééé"] {
        let (status, body) = server.register("bob@example.com", password).await;
        assert_eq!(status, 400, "{password:?}: {body}");
        assert_eq!(body, short, "{password:?}");
    }
    let (status, body) = server.register("bob@example.com", "12345678").await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn register_password_containing_email_is_400_with_reason() {
    let server = common::spawn().await;
    let (status, body) = server
        .register("carol@example.com", "my-carol@example.com-pw")
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body,
        json!({"detail": {
            "code": "REGISTER_INVALID_PASSWORD",
            "reason": "Password should not contain e-mail",
        }})
    );
    // No user was created.
    assert!(
        server
            .warden
            .manager()
            .store()
            .get_by_email("carol@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn register_password_rule_runs_before_duplicate_check() {
    let server = common::spawn().await;
    let (status, body) = server.register("dave@example.com", PASSWORD).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = server.register("DAVE@example.com", "short").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body,
        json!({"detail": {
            "code": "REGISTER_INVALID_PASSWORD",
            "reason": "Password should be at least 8 characters",
        }})
    );
}

#[tokio::test]
async fn register_missing_fields_is_422_listing_each() {
    let server = common::spawn().await;
    let reply = post_json(&server, "/auth/register", &json!({})).await;
    assert_validation(
        &reply,
        json!([
            {"type": "missing", "loc": ["body", "email"], "msg": "Field required"},
            {"type": "missing", "loc": ["body", "password"], "msg": "Field required"},
        ]),
    );
    let reply = post_json(
        &server,
        "/auth/register",
        &json!({"email": "e@example.com"}),
    )
    .await;
    assert_validation(
        &reply,
        json!([{"type": "missing", "loc": ["body", "password"], "msg": "Field required"}]),
    );
    let reply = post_json(
        &server,
        "/auth/register",
        &json!({"email": null, "password": PASSWORD}),
    )
    .await;
    assert_validation(
        &reply,
        json!([{"type": "missing", "loc": ["body", "email"], "msg": "Field required"}]),
    );
}

#[tokio::test]
async fn register_invalid_email_is_422() {
    let server = common::spawn().await;
    let reply = post_json(
        &server,
        "/auth/register",
        &json!({"email": "not-an-email", "password": PASSWORD}),
    )
    .await;
    assert_validation(
        &reply,
        json!([{
            "type": "value_error",
            "loc": ["body", "email"],
            "msg": "value is not a valid email address: An email address must have an @-sign.",
        }]),
    );
    for email in [
        "",
        "a@b",
        "@example.com",
        "a b@example.com",
        " a@example.com",
        "a@localhost",
    ] {
        let reply = post_json(
            &server,
            "/auth/register",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
        assert_validation_type(&reply, "value_error", json!(["body", "email"]));
    }
    // An invalid e-mail and a missing password are reported together.
    let reply = post_json(&server, "/auth/register", &json!({"email": "nope"})).await;
    assert_validation(
        &reply,
        json!([
            {"type": "missing", "loc": ["body", "password"], "msg": "Field required"},
            {
                "type": "value_error",
                "loc": ["body", "email"],
                "msg": "value is not a valid email address: An email address must have an @-sign.",
            },
        ]),
    );
}

#[tokio::test]
async fn register_wrong_json_types_are_422() {
    let server = common::spawn().await;
    let reply = post_json(
        &server,
        "/auth/register",
        &json!({"email": 42, "password": ["a", "b"]}),
    )
    .await;
    assert_validation(
        &reply,
        json!([
            {"type": "string_type", "loc": ["body", "email"], "msg": "Input should be a valid string"},
            {"type": "string_type", "loc": ["body", "password"], "msg": "Input should be a valid string"},
        ]),
    );
    let reply = post_json(
        &server,
        "/auth/register",
        &json!({"email": "t@example.com", "password": PASSWORD, "is_superuser": {"x": 1}}),
    )
    .await;
    assert_validation(
        &reply,
        json!([{"type": "bool_type", "loc": ["body", "is_superuser"], "msg": "Input should be a valid boolean"}]),
    );
}

#[tokio::test]
async fn register_malformed_bodies_are_422() {
    let server = common::spawn().await;
    let post = |content_type: &'static str, body: &'static str| {
        send(
            &server,
            reqwest::Method::POST,
            "/auth/register",
            Some(content_type),
            Some(body.as_bytes().to_vec()),
            &[],
        )
    };

    // Invalid JSON.
    let reply = post(
        "application/json",
        r#"{"email": "a@example.com", "password": "#,
    )
    .await;
    assert_validation_type(&reply, "json_invalid", json!(["body"]));
    assert_eq!(reply.json()["detail"][0]["msg"], "JSON decode error");

    // A JSON array, a string, a number.
    for body in [
        r#"[{"email": "a@example.com", "password": "long-password"}]"#,
        r#""x""#,
        "1",
    ] {
        let reply = post("application/json", body).await;
        assert_validation(
            &reply,
            json!([{
                "type": "model_attributes_type",
                "loc": ["body"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
            }]),
        );
    }

    // An empty body.
    let reply = post("application/json", "").await;
    assert_validation(
        &reply,
        json!([{"type": "missing", "loc": ["body"], "msg": "Field required"}]),
    );

    // A form-encoded body: register takes JSON only.
    let reply = post(
        "application/x-www-form-urlencoded",
        "email=form%40example.com&password=long-enough-password",
    )
    .await;
    assert_validation_type(&reply, "model_attributes_type", json!(["body"]));

    // A body of another type.
    let reply = post(
        "text/plain",
        r#"{"email": "text@example.com", "password": "long-enough-password"}"#,
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert!(reply.json()["detail"].is_array(), "{}", reply.text);

    // None of these created a user.
    for email in ["a@example.com", "form@example.com", "text@example.com"] {
        assert!(
            server
                .warden
                .manager()
                .store()
                .get_by_email(email)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn register_json_content_type_variants_are_accepted() {
    let server = common::spawn().await;
    for (i, content_type) in [
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.api+json",
    ]
    .into_iter()
    .enumerate()
    {
        let email = format!("ct{i}@example.com");
        let body = serde_json::to_vec(&json!({"email": email, "password": PASSWORD})).unwrap();
        let reply = send(
            &server,
            reqwest::Method::POST,
            "/auth/register",
            Some(content_type),
            Some(body),
            &[],
        )
        .await;
        assert_eq!(reply.status, 201, "{content_type}: {}", reply.text);
        assert_user_read(&reply.json(), &email, true, false, false);
    }
}

#[tokio::test]
async fn register_password_length_limits() {
    let server = common::spawn().await;
    // 4096 bytes is the limit and is accepted.
    let at_limit = "p".repeat(4096);
    let (status, body) = server.register("max@example.com", &at_limit).await;
    assert_eq!(status, 201, "{body}");
    assert_login_response(&login_json(&server, "max@example.com", &at_limit).await);

    // One byte more is a 422, and the password is not echoed.
    let over = "p".repeat(4097);
    let reply = post_json(
        &server,
        "/auth/register",
        &json!({"email": "over@example.com", "password": over}),
    )
    .await;
    assert_validation(
        &reply,
        json!([{
            "type": "string_too_long",
            "loc": ["body", "password"],
            "msg": "String should have at most 4096 bytes",
        }]),
    );

    // The limit is in bytes: 2049 two-byte characters are over it.
    let wide = "é".repeat(2049);
    let reply = post_json(
        &server,
        "/auth/register",
        &json!({"email": "wide@example.com", "password": wide}),
    )
    .await;
    assert_validation_type(&reply, "string_too_long", json!(["body", "password"]));
}

#[tokio::test]
async fn register_one_megabyte_password_is_refused_quickly() {
    let server = common::spawn().await;
    let huge = "x".repeat(1024 * 1024);
    let body = serde_json::to_vec(&json!({"email": "huge@example.com", "password": huge})).unwrap();
    let started = Instant::now();
    let reply = send(
        &server,
        reqwest::Method::POST,
        "/auth/register",
        Some("application/json"),
        Some(body),
        &[],
    )
    .await;
    let elapsed = started.elapsed();
    assert_validation_type(&reply, "string_too_long", json!(["body", "password"]));
    assert!(reply.text.len() < 1024, "the password was echoed");
    assert!(
        elapsed < Duration::from_millis(800),
        "a 1 MB password took {elapsed:?}: was it hashed?"
    );

    // Login refuses it the same way, without hashing.
    let body = serde_json::to_vec(
        &json!({"username": "huge@example.com", "password": "x".repeat(1024 * 1024)}),
    )
    .unwrap();
    let started = Instant::now();
    let reply = send(
        &server,
        reqwest::Method::POST,
        "/auth/jwt/login",
        Some("application/json"),
        Some(body),
        &[],
    )
    .await;
    let elapsed = started.elapsed();
    assert_validation_type(&reply, "string_too_long", json!(["body", "password"]));
    assert!(elapsed < Duration::from_millis(800), "{elapsed:?}");
}

#[tokio::test]
async fn body_over_two_megabytes_is_413_json() {
    let server = common::spawn().await;
    // One byte over axum's default 2 MiB limit. The server must read all of it to
    // know, so it answers with the whole request consumed (no reset race).
    let limit = 2 * 1024 * 1024;
    let mut body = br#"{"email": "big@example.com", "password": "long-enough-password"}"#.to_vec();
    body.resize(limit + 1, b' ');
    for (path, content_type) in [
        ("/auth/register", "application/json"),
        ("/auth/jwt/login", "application/json"),
        ("/auth/jwt/login", "application/x-www-form-urlencoded"),
    ] {
        let reply = send(
            &server,
            reqwest::Method::POST,
            path,
            Some(content_type),
            Some(body.clone()),
            &[],
        )
        .await;
        assert_eq!(reply.status, 413, "{path} {content_type}: {}", reply.text);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.json(), json!({"detail": "Request body too large"}));
    }
    // Exactly at the limit the body is read (and here parsed: a valid registration).
    body.truncate(limit);
    let reply = send(
        &server,
        reqwest::Method::POST,
        "/auth/register",
        Some("application/json"),
        Some(body),
        &[],
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_user_read(&reply.json(), "big@example.com", true, false, false);
}

#[tokio::test]
async fn register_accepts_a_64_character_password() {
    let server = common::spawn().await;
    let password = "Ab1-".repeat(16);
    assert_eq!(password.len(), 64);
    let (status, body) = server.register("long@example.com", &password).await;
    assert_eq!(status, 201, "{body}");
    assert_user_read(&body, "long@example.com", true, false, false);
    assert_login_response(&login_form(&server, "long@example.com", &password).await);
}

// ---------------------------------------------------------------------------------
// POST /auth/jwt/login
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn login_with_form_and_with_json() {
    let server = common::spawn().await;
    let (status, body) = server.register("erin@example.com", PASSWORD).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();

    let form = login_form(&server, "erin@example.com", PASSWORD).await;
    let json = login_json(&server, "erin@example.com", PASSWORD).await;
    for reply in [&form, &json] {
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let token = assert_login_response(reply);
        let claims = claims(&token);
        assert_eq!(claims["sub"], id.as_str());
        let aud = &claims["aud"];
        assert!(
            aud == "fastapi-users:auth" || *aud == json!(["fastapi-users:auth"]),
            "{claims}"
        );
        let (exp, iat) = (
            claims["exp"].as_i64().unwrap(),
            claims["iat"].as_i64().unwrap(),
        );
        assert_eq!(exp - iat, 3600, "{claims}");
        let (status, me) = server.get("/users/me", Some(&token)).await;
        assert_eq!(status, 200, "{me}");
        assert_user_read(&me, "erin@example.com", true, false, false);
    }
}

#[tokio::test]
async fn login_username_is_case_insensitive() {
    let server = common::spawn().await;
    let (status, _) = server.register("Frank@Example.com", PASSWORD).await;
    assert_eq!(status, 201);
    for username in [
        "Frank@example.com",
        "frank@example.com",
        "FRANK@EXAMPLE.COM",
    ] {
        assert_login_response(&login_form(&server, username, PASSWORD).await);
    }
}

#[tokio::test]
async fn login_bad_credentials_are_indistinguishable() {
    let server = common::spawn().await;
    let (status, _) = server.register("gina@example.com", PASSWORD).await;
    assert_eq!(status, 201);
    let (status, _) = server.register("idle@example.com", PASSWORD).await;
    assert_eq!(status, 201);
    server
        .set_flags("idle@example.com", false, true, false)
        .await;

    let bad = json!({"detail": "LOGIN_BAD_CREDENTIALS"});
    for (username, password) in [
        ("gina@example.com", "wrong-password"),
        ("nobody@example.com", PASSWORD),
        ("idle@example.com", PASSWORD),
        ("gina@example.com", ""),
        ("", PASSWORD),
    ] {
        for reply in [
            login_form(&server, username, password).await,
            login_json(&server, username, password).await,
        ] {
            assert_eq!(reply.status, 400, "{username}/{password}: {}", reply.text);
            assert_eq!(reply.json(), bad, "{username}/{password}");
            assert_eq!(reply.header("www-authenticate"), None);
        }
    }
}

#[tokio::test]
async fn login_grant_type() {
    let server = common::spawn().await;
    let (status, _) = server.register("hank@example.com", PASSWORD).await;
    assert_eq!(status, 201);
    let credentials = format!(
        "username=hank%40example.com&password={}",
        common::urlencode(PASSWORD)
    );

    for grant in ["grant_type=password&", "grant_type=&", ""] {
        let reply = post_form(&server, "/auth/jwt/login", &format!("{grant}{credentials}")).await;
        assert_login_response(&reply);
    }
    // The other OAuth2 fields are accepted and ignored.
    let reply = post_form(
        &server,
        "/auth/jwt/login",
        &format!("{credentials}&scope=me+items&client_id=x&client_secret=y"),
    )
    .await;
    assert_login_response(&reply);

    let reply = post_form(
        &server,
        "/auth/jwt/login",
        &format!("grant_type=client_credentials&{credentials}"),
    )
    .await;
    assert_validation(
        &reply,
        json!([{
            "type": "string_pattern_mismatch",
            "loc": ["body", "grant_type"],
            "msg": "String should match pattern '^password$'",
        }]),
    );
}

#[tokio::test]
async fn login_missing_fields_are_422_listing_both() {
    let server = common::spawn().await;
    let both = json!([
        {"type": "missing", "loc": ["body", "username"], "msg": "Field required"},
        {"type": "missing", "loc": ["body", "password"], "msg": "Field required"},
    ]);
    assert_validation(
        &post_form(&server, "/auth/jwt/login", "grant_type=password").await,
        both.clone(),
    );
    assert_validation(
        &post_json(&server, "/auth/jwt/login", &json!({})).await,
        both.clone(),
    );
    assert_validation(
        &post_form(&server, "/auth/jwt/login", "username=a%40example.com").await,
        json!([{"type": "missing", "loc": ["body", "password"], "msg": "Field required"}]),
    );
    assert_validation(
        &post_json(&server, "/auth/jwt/login", &json!({"password": PASSWORD})).await,
        json!([{"type": "missing", "loc": ["body", "username"], "msg": "Field required"}]),
    );
    // The other OAuth2 fields do not stand in for the required ones.
    assert_validation(
        &post_form(
            &server,
            "/auth/jwt/login",
            "scope=&client_id=x&client_secret=y",
        )
        .await,
        both,
    );
}

/// FastAPI reads the login body with `request.form()`, which for an empty body (with
/// the form content type, or none at all) is a form without fields: the 422 lists
/// `username` and `password`, as for any other form that lacks them.
#[tokio::test]
async fn login_empty_body_is_422_listing_both_fields() {
    let server = common::spawn().await;
    let both = json!({"detail": [
        {"type": "missing", "loc": ["body", "username"], "msg": "Field required"},
        {"type": "missing", "loc": ["body", "password"], "msg": "Field required"},
    ]});
    let form = post_form(&server, "/auth/jwt/login", "").await;
    assert_eq!(form.status, 422, "{}", form.text);
    assert_eq!(form.json(), both, "empty form body");
    let bare = send(
        &server,
        reqwest::Method::POST,
        "/auth/jwt/login",
        None,
        None,
        &[],
    )
    .await;
    assert_eq!(bare.status, 422, "{}", bare.text);
    assert_eq!(bare.json(), both, "empty body, no content type");
}

#[tokio::test]
async fn login_wrong_types_and_malformed_bodies_are_422() {
    let server = common::spawn().await;
    assert_validation(
        &post_json(
            &server,
            "/auth/jwt/login",
            &json!({"username": 1, "password": true}),
        )
        .await,
        json!([
            {"type": "string_type", "loc": ["body", "username"], "msg": "Input should be a valid string"},
            {"type": "string_type", "loc": ["body", "password"], "msg": "Input should be a valid string"},
        ]),
    );
    let reply = send(
        &server,
        reqwest::Method::POST,
        "/auth/jwt/login",
        Some("application/json"),
        Some(b"{not json".to_vec()),
        &[],
    )
    .await;
    assert_validation_type(&reply, "json_invalid", json!(["body"]));
    let reply = post_json(&server, "/auth/jwt/login", &json!(["username", "password"])).await;
    assert_validation_type(&reply, "model_attributes_type", json!(["body"]));
}

#[tokio::test]
async fn login_uses_the_password_exactly_as_typed() {
    let server = common::spawn().await;
    let (status, _) = server.register("ivy@example.com", PASSWORD).await;
    assert_eq!(status, 201);
    for typed in [
        format!("{PASSWORD} "),
        format!(" {PASSWORD}"),
        PASSWORD.to_uppercase(),
        PASSWORD[..PASSWORD.len() - 1].to_owned(),
    ] {
        let reply = login_form(&server, "ivy@example.com", &typed).await;
        assert_eq!(reply.status, 400, "{typed:?}: {}", reply.text);
        assert_eq!(reply.json(), json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
    }
    // A space inside the password survives form encoding ('+').
    assert_login_response(&login_form(&server, "ivy@example.com", PASSWORD).await);
    // A username with surrounding spaces is not trimmed into a match either.
    let reply = login_form(&server, " ivy@example.com", PASSWORD).await;
    assert_eq!(reply.status, 400, "{}", reply.text);
}

#[tokio::test]
async fn two_logins_give_different_tokens() {
    let server = common::spawn().await;
    let (status, _) = server.register("jack@example.com", PASSWORD).await;
    assert_eq!(status, 201);
    let first = assert_login_response(&login_form(&server, "jack@example.com", PASSWORD).await);
    let second = assert_login_response(&login_form(&server, "jack@example.com", PASSWORD).await);
    assert_ne!(first, second);
    let (a, b) = (claims(&first), claims(&second));
    assert!(a["jti"].is_string() && b["jti"].is_string(), "{a} {b}");
    assert_ne!(a["jti"], b["jti"]);
    assert_eq!(a["sub"], b["sub"]);
    for token in [&first, &second] {
        let (status, _) = server.get("/users/me", Some(token)).await;
        assert_eq!(status, 200);
    }
}

// ---------------------------------------------------------------------------------
// GET /users/me
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn users_me_returns_the_current_user() {
    let server = common::spawn().await;
    let (status, registered) = server.register("kate@example.com", PASSWORD).await;
    assert_eq!(status, 201);
    let token = assert_login_response(&login_form(&server, "kate@example.com", PASSWORD).await);
    let reply = get_auth(&server, "/users/me", &[&format!("Bearer {token}")]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let id = assert_user_read(&reply.json(), "kate@example.com", true, false, false);
    assert_eq!(id.to_string(), registered["id"].as_str().unwrap());
    // The scheme is case-insensitive.
    let reply = get_auth(&server, "/users/me", &[&format!("bearer {token}")]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // Flags are read from the store on every request.
    server.set_flags("kate@example.com", true, true, true).await;
    let (status, me) = server.get("/users/me", Some(&token)).await;
    assert_eq!(status, 200);
    assert_user_read(&me, "kate@example.com", true, true, true);
}

#[tokio::test]
async fn users_me_without_a_valid_token_is_401() {
    let server = common::spawn().await;
    let token = server.user_token("liam@example.com", PASSWORD).await;

    assert_unauthorized(&get_auth(&server, "/users/me", &[]).await);
    // No bearer credential at all: the bare challenge.
    for header in [
        "Bearer ".to_owned(),
        "Bearer".to_owned(),
        format!("Basic {token}"),
        "Basic bGlhbUBleGFtcGxlLmNvbTpjb3JyZWN0IGhvcnNlIGJhdHRlcnk=".to_owned(),
        format!("Token {token}"),
        token.clone(),
    ] {
        let reply = get_auth(&server, "/users/me", &[&header]).await;
        assert_unauthorized(&reply);
    }
    // A bearer credential that is refused: `invalid_token`.
    for header in [
        "Bearer garbage".to_owned(),
        "Bearer a.b.c".to_owned(),
        format!("Bearer {token}x"),
        format!("Bearer  {token}"),
    ] {
        let reply = get_auth(&server, "/users/me", &[&header]).await;
        assert_token_refused(&reply);
    }
    // A tampered payload with the original signature.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut payload = claims(&token);
    payload["sub"] = json!(Uuid::new_v4().to_string());
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
    let tampered = parts.join(".");
    assert_token_refused(&get_auth(&server, "/users/me", &[&format!("Bearer {tampered}")]).await);
    // The token in the query string is never read.
    let reply = Reply::read(
        server
            .client
            .get(server.url(&format!("/users/me?access_token={token}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_unauthorized(&reply);
}

#[tokio::test]
async fn users_me_with_forged_tokens_is_401() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let server = common::spawn().await;
    let token = server.user_token("mia@example.com", PASSWORD).await;
    let sub = claims(&token)["sub"].as_str().unwrap().to_owned();
    let now = claims(&token)["iat"].as_i64().unwrap();
    let sign = |claims: Value, secret: &str| {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    // Sanity: a token forged with the right secret and claims is accepted, so the
    // refusals below are about the one thing each changes.
    let good = sign(
        json!({"sub": sub, "aud": ["fastapi-users:auth"], "exp": now + 600}),
        common::SECRET,
    );
    let (status, body) = server.get("/users/me", Some(&good)).await;
    assert_eq!(status, 200, "{body}");

    for forged in [
        // Wrong secret.
        sign(
            json!({"sub": sub, "aud": ["fastapi-users:auth"], "exp": now + 600}),
            "another-secret-that-is-at-least-32-bytes",
        ),
        // Expired.
        sign(
            json!({"sub": sub, "aud": ["fastapi-users:auth"], "exp": now - 3600}),
            common::SECRET,
        ),
        // Another audience (a reset token, say).
        sign(
            json!({"sub": sub, "aud": ["fastapi-users:reset"], "exp": now + 600}),
            common::SECRET,
        ),
        // A user that does not exist.
        sign(
            json!({"sub": Uuid::new_v4().to_string(), "aud": ["fastapi-users:auth"], "exp": now + 600}),
            common::SECRET,
        ),
        // A sub that is not a user id.
        sign(
            json!({"sub": "mia@example.com", "aud": ["fastapi-users:auth"], "exp": now + 600}),
            common::SECRET,
        ),
    ] {
        let (status, body) = server.get("/users/me", Some(&forged)).await;
        assert_eq!(status, 401, "{forged}: {body}");
        assert_eq!(body, json!({"detail": "Unauthorized"}));
    }
    // alg=none with the real claims.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = token.split('.').nth(1).unwrap();
    for none in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        let (status, _) = server.get("/users/me", Some(&none)).await;
        assert_eq!(status, 401, "{none}");
    }
}

#[tokio::test]
async fn users_me_for_a_deleted_user_is_401() {
    let server = common::spawn().await;
    let token = server.user_token("noah@example.com", PASSWORD).await;
    let (status, me) = server.get("/users/me", Some(&token)).await;
    assert_eq!(status, 200);
    let id = Uuid::parse_str(me["id"].as_str().unwrap()).unwrap();
    server.warden.manager().store().delete(&id).await.unwrap();
    let bearer = format!("Bearer {token}");
    assert_token_refused(&get_auth(&server, "/users/me", &[&bearer]).await);
    assert_token_refused(&get_auth(&server, "/authenticated-route", &[&bearer]).await);
    assert_token_refused(&post_bearer(&server, "/auth/jwt/refresh", Some(&token)).await);
    let (status, body) = server.get("/optional-route", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"message": "Hello anonymous!"}));
}

#[tokio::test]
async fn users_me_for_an_inactive_user_is_401_not_403() {
    let server = common::spawn().await;
    let token = server.user_token("olga@example.com", PASSWORD).await;
    server
        .set_flags("olga@example.com", false, true, true)
        .await;
    let bearer = format!("Bearer {token}");
    assert_token_refused(&get_auth(&server, "/users/me", &[&bearer]).await);
    // Reactivated: the same token works again.
    server
        .set_flags("olga@example.com", true, false, false)
        .await;
    let reply = get_auth(&server, "/users/me", &[&bearer]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

// ---------------------------------------------------------------------------------
// The demo guards
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn authenticated_route_requires_an_active_user() {
    let server = common::spawn().await;
    assert_unauthorized(&get_auth(&server, "/authenticated-route", &[]).await);
    assert_token_refused(&get_auth(&server, "/authenticated-route", &["Bearer nope"]).await);
    let token = server.user_token("pat@example.com", PASSWORD).await;
    let (status, body) = server.get("/authenticated-route", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"message": "Hello pat@example.com!"}));

    server.set_flags("pat@example.com", false, true, true).await;
    assert_token_refused(
        &get_auth(
            &server,
            "/authenticated-route",
            &[&format!("Bearer {token}")],
        )
        .await,
    );
}

#[tokio::test]
async fn verified_route_is_403_until_verified() {
    let server = common::spawn().await;
    assert_unauthorized(&get_auth(&server, "/verified-route", &[]).await);
    let token = server.user_token("quinn@example.com", PASSWORD).await;
    let bearer = format!("Bearer {token}");
    assert_forbidden(&get_auth(&server, "/verified-route", &[&bearer]).await);

    server
        .set_flags("quinn@example.com", true, true, false)
        .await;
    let (status, body) = server.get("/verified-route", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"message": "Hello quinn@example.com, you are verified!"})
    );

    // Verified but inactive: 401, the active check comes first.
    server
        .set_flags("quinn@example.com", false, true, false)
        .await;
    assert_token_refused(&get_auth(&server, "/verified-route", &[&bearer]).await);
}

#[tokio::test]
async fn superuser_route_is_403_until_promoted() {
    let server = common::spawn().await;
    assert_unauthorized(&get_auth(&server, "/superuser-route", &[]).await);
    let token = server.user_token("rita@example.com", PASSWORD).await;
    let bearer = format!("Bearer {token}");
    assert_forbidden(&get_auth(&server, "/superuser-route", &[&bearer]).await);

    // Verified alone does not make a superuser.
    server
        .set_flags("rita@example.com", true, true, false)
        .await;
    assert_forbidden(&get_auth(&server, "/superuser-route", &[&bearer]).await);

    server
        .set_flags("rita@example.com", true, false, true)
        .await;
    let (status, body) = server.get("/superuser-route", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"message": "Hello rita@example.com, you are a superuser!"})
    );

    // Demoted: refused at once with the same token.
    server
        .set_flags("rita@example.com", true, false, false)
        .await;
    assert_forbidden(&get_auth(&server, "/superuser-route", &[&bearer]).await);
}

#[tokio::test]
async fn optional_route_greets_anonymous_or_the_user() {
    let server = common::spawn().await;
    let anonymous = json!({"message": "Hello anonymous!"});
    for header in [
        None,
        Some("Bearer garbage"),
        Some("Basic dTpw"),
        Some("Bearer a.b.c"),
    ] {
        let auth: Vec<&str> = header.into_iter().collect();
        let reply = get_auth(&server, "/optional-route", &auth).await;
        assert_eq!(reply.status, 200, "{header:?}: {}", reply.text);
        assert_eq!(reply.json(), anonymous, "{header:?}");
    }
    let token = server.user_token("sam@example.com", PASSWORD).await;
    let (status, body) = server.get("/optional-route", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"message": "Hello sam@example.com!"}));
}

#[tokio::test]
async fn flag_changes_apply_to_existing_tokens_at_once() {
    let server = common::spawn().await;
    let token = server.user_token("tess@example.com", PASSWORD).await;
    let bearer = format!("Bearer {token}");
    let status = |path: &'static str| {
        let server = &server;
        let bearer = bearer.clone();
        async move { get_auth(server, path, &[&bearer]).await.status }
    };
    let routes = [
        "/authenticated-route",
        "/verified-route",
        "/superuser-route",
    ];
    // (active, verified, superuser) → expected statuses of the three routes.
    let steps = [
        ((true, false, false), [200, 403, 403]),
        ((true, true, false), [200, 200, 403]),
        ((true, true, true), [200, 200, 200]),
        ((false, true, true), [401, 401, 401]),
        ((true, false, true), [200, 403, 200]),
        ((true, false, false), [200, 403, 403]),
    ];
    for ((active, verified, superuser), expected) in steps {
        server
            .set_flags("tess@example.com", active, verified, superuser)
            .await;
        let mut got = [0u16; 3];
        for (slot, path) in got.iter_mut().zip(routes) {
            *slot = status(path).await;
        }
        assert_eq!(got, expected, "flags {:?}", (active, verified, superuser));
    }
}

// ---------------------------------------------------------------------------------
// POST /auth/jwt/refresh and /auth/jwt/logout
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn refresh_issues_a_new_working_token() {
    let server = common::spawn().await;
    let token = server.user_token("uma@example.com", PASSWORD).await;
    let reply = post_bearer(&server, "/auth/jwt/refresh", Some(&token)).await;
    let fresh = assert_login_response(&reply);
    assert_ne!(fresh, token);
    assert_ne!(claims(&fresh)["jti"], claims(&token)["jti"]);
    assert_eq!(claims(&fresh)["sub"], claims(&token)["sub"]);
    let (status, me) = server.get("/users/me", Some(&fresh)).await;
    assert_eq!(status, 200, "{me}");
    assert_user_read(&me, "uma@example.com", true, false, false);
    // The new token can itself be refreshed.
    let again =
        assert_login_response(&post_bearer(&server, "/auth/jwt/refresh", Some(&fresh)).await);
    assert_ne!(again, fresh);
}

#[tokio::test]
async fn refresh_without_a_valid_token_or_for_an_inactive_user_is_401() {
    let server = common::spawn().await;
    assert_unauthorized(&post_bearer(&server, "/auth/jwt/refresh", None).await);
    assert_token_refused(&post_bearer(&server, "/auth/jwt/refresh", Some("garbage")).await);
    let token = server.user_token("vic@example.com", PASSWORD).await;
    server.set_flags("vic@example.com", false, true, true).await;
    let reply = post_bearer(&server, "/auth/jwt/refresh", Some(&token)).await;
    assert_token_refused(&reply);
    assert_eq!(reply.header("cache-control"), None);
}

#[tokio::test]
async fn logout_is_204_with_an_empty_body() {
    let server = common::spawn().await;
    let token = server.user_token("wade@example.com", PASSWORD).await;
    let reply = post_bearer(&server, "/auth/jwt/logout", Some(&token)).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(reply.text, "");
}

#[tokio::test]
async fn logout_without_a_valid_token_or_for_an_inactive_user_is_401() {
    let server = common::spawn().await;
    assert_unauthorized(&post_bearer(&server, "/auth/jwt/logout", None).await);
    assert_token_refused(&post_bearer(&server, "/auth/jwt/logout", Some("garbage")).await);
    let token = server.user_token("xena@example.com", PASSWORD).await;
    server
        .set_flags("xena@example.com", false, false, false)
        .await;
    assert_token_refused(&post_bearer(&server, "/auth/jwt/logout", Some(&token)).await);
}

// ---------------------------------------------------------------------------------
// Protocol details
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn wrong_method_on_a_warden_route_is_405_json() {
    let server = common::spawn().await;
    let token = server.user_token("yan@example.com", PASSWORD).await;
    let bearer = format!("Bearer {token}");
    // (method, path, the method the route does allow)
    for (method, path, allowed) in [
        (reqwest::Method::GET, "/auth/jwt/login", "POST"),
        (reqwest::Method::GET, "/auth/jwt/logout", "POST"),
        (reqwest::Method::GET, "/auth/jwt/refresh", "POST"),
        (reqwest::Method::GET, "/auth/register", "POST"),
        (reqwest::Method::PUT, "/auth/register", "POST"),
        (reqwest::Method::DELETE, "/auth/jwt/login", "POST"),
        (reqwest::Method::POST, "/users/me", "GET"),
    ] {
        let reply = send(&server, method.clone(), path, None, None, &[&bearer]).await;
        assert_eq!(reply.status, 405, "{method} {path}: {}", reply.text);
        assert_eq!(
            reply.json(),
            json!({"detail": "Method Not Allowed"}),
            "{method} {path}"
        );
        // RFC 9110 §15.5.6 (and Starlette): a 405 says what is allowed.
        let allow = reply
            .header("allow")
            .unwrap_or_else(|| panic!("{method} {path}: no Allow header"));
        assert!(
            allow.split(',').any(|m| m.trim() == allowed),
            "{method} {path}: Allow: {allow}"
        );
    }
}

/// Sends a request head (ending in a blank line, with `connection: close`) over a
/// raw connection and reads the whole response.
async fn raw_request(server: &Server, head: &str) -> (u16, String) {
    let addr = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buffer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buffer))
        .await
        .expect("the server did not close the connection")
        .unwrap();
    let text = String::from_utf8(buffer).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text:?}"));
    (status, text)
}

#[tokio::test]
async fn two_authorization_headers_are_401() {
    let server = common::spawn().await;
    let token = server.user_token("zoe@example.com", PASSWORD).await;
    let bearer = format!("Bearer {token}");
    // Sanity: one header works.
    assert_eq!(get_auth(&server, "/users/me", &[&bearer]).await.status, 200);

    for pair in [
        [bearer.as_str(), bearer.as_str()],
        [bearer.as_str(), "Bearer garbage"],
        ["Bearer garbage", bearer.as_str()],
    ] {
        let reply = get_auth(&server, "/users/me", &pair).await;
        assert_unauthorized(&reply);
        assert_unauthorized(&get_auth(&server, "/authenticated-route", &pair).await);
        assert_unauthorized(
            &send(
                &server,
                reqwest::Method::POST,
                "/auth/jwt/refresh",
                None,
                None,
                &pair,
            )
            .await,
        );
        let reply = get_auth(&server, "/optional-route", &pair).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json(), json!({"message": "Hello anonymous!"}));
    }

    // The same over a raw connection, with the two lines as sent on the wire.
    let head = format!(
        "GET /users/me HTTP/1.1\r\nhost: localhost\r\nauthorization: {bearer}\r\nauthorization: {bearer}\r\nconnection: close\r\n\r\n"
    );
    let (status, text) = raw_request(&server, &head).await;
    assert_eq!(status, 401, "{text}");
    assert!(text.ends_with(r#"{"detail":"Unauthorized"}"#), "{text}");
}

// ---------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------

/// Registers `emails` concurrently (one spawned task each); returns the replies.
async fn register_concurrently(server: &Server, emails: Vec<String>) -> Vec<(u16, Value)> {
    let url = server.url("/auth/register");
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(emails.len()));
    let tasks: Vec<_> = emails
        .into_iter()
        .map(|email| {
            let client = server.client.clone();
            let url = url.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let response = client
                    .post(url)
                    .json(&json!({"email": email, "password": PASSWORD}))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.unwrap())
            })
        })
        .collect();
    futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// Exactly one 201, the rest 400 `REGISTER_USER_ALREADY_EXISTS`; the one stored user
/// is the one the 201 described, and it can log in. Returns the 201 body.
async fn assert_one_registration_won(
    server: &Server,
    replies: &[(u16, Value)],
    email: &str,
) -> Value {
    let created: Vec<&Value> = replies
        .iter()
        .filter(|(status, _)| *status == 201)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(created.len(), 1, "{replies:?}");
    for (status, body) in replies.iter().filter(|(status, _)| *status != 201) {
        assert_eq!(*status, 400, "{body}");
        assert_eq!(*body, json!({"detail": "REGISTER_USER_ALREADY_EXISTS"}));
    }
    let winner = created[0].clone();
    let id = Uuid::parse_str(winner["id"].as_str().unwrap()).unwrap();
    let stored = server
        .warden
        .manager()
        .store()
        .get_by_email(email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.id, id);
    assert_eq!(stored.email, winner["email"].as_str().unwrap());
    let token = assert_login_response(&login_form(server, email, PASSWORD).await);
    let (status, me) = server.get("/users/me", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(me, winner);
    winner
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_registrations_of_one_email() {
    let server = common::spawn().await;
    let replies = register_concurrently(&server, vec!["race@example.com".to_owned(); 50]).await;
    assert_eq!(replies.len(), 50);
    let winner = assert_one_registration_won(&server, &replies, "race@example.com").await;
    assert_user_read(&winner, "race@example.com", true, false, false);
    let statuses = replies.iter().filter(|(s, _)| *s == 400).count();
    assert_eq!(statuses, 49);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_in_different_cases() {
    let server = common::spawn().await;
    let emails: Vec<String> = (0..20)
        .map(|i| match i % 4 {
            0 => "Case@example.com",
            1 => "case@example.com",
            2 => "CASE@EXAMPLE.COM",
            _ => "cAsE@Example.Com",
        })
        .map(str::to_owned)
        .collect();
    let replies = register_concurrently(&server, emails).await;
    assert_one_registration_won(&server, &replies, "case@example.com").await;
}
