//! End-to-end HTTP tests of the reset-password and verify routers, the development
//! mailer and the lifecycle hooks, over a real server with the in-memory store:
//! exact status codes and whole JSON bodies, as FastAPI Users answers them
//! (FastAPI Users' reset-password and verify routers).

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};
use uuid::Uuid;
use warden::{
    Clock, InvalidPassword, MemoryStore, TokenSettings, User, UserEvents, UserStore, UserUpdate,
    Warden,
};

use common::{Reply, Server, claims, now};

const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "another long password";
const RESET_SECRET: &str = "reset-secret-that-is-at-least-32-bytes-long";
const VERIFY_SECRET: &str = "verify-secret-that-is-at-least-32-bytes-long";
const TOO_SHORT: &str = "Password should be at least 8 characters";

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

async fn send(
    server: &Server,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Option<&str>,
) -> Reply {
    let mut request = server.client.request(method, server.url(path));
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    if let Some(body) = body {
        request = request.body(body.to_owned());
    }
    Reply::read(request.send().await.unwrap()).await
}

async fn post(server: &Server, path: &str, body: &Value) -> Reply {
    let body = body.to_string();
    send(
        server,
        Method::POST,
        path,
        None,
        Some("application/json"),
        Some(&body),
    )
    .await
}

async fn get(server: &Server, path: &str, token: Option<&str>) -> Reply {
    send(server, Method::GET, path, token, None, None).await
}

async fn patch_me(server: &Server, token: &str, body: &Value) -> Reply {
    let body = body.to_string();
    send(
        server,
        Method::PATCH,
        "/users/me",
        Some(token),
        Some("application/json"),
        Some(&body),
    )
    .await
}

async fn forgot(server: &Server, email: &str) -> Reply {
    post(server, "/auth/forgot-password", &json!({"email": email})).await
}

async fn reset(server: &Server, token: &str, password: &str) -> Reply {
    post(
        server,
        "/auth/reset-password",
        &json!({"token": token, "password": password}),
    )
    .await
}

async fn request_verify(server: &Server, email: &str) -> Reply {
    post(
        server,
        "/auth/request-verify-token",
        &json!({"email": email}),
    )
    .await
}

async fn verify(server: &Server, token: &str) -> Reply {
    post(server, "/auth/verify", &json!({"token": token})).await
}

async fn login(server: &Server, email: &str, password: &str) -> Reply {
    let body = format!(
        "username={}&password={}",
        common::urlencode(email),
        common::urlencode(password)
    );
    send(
        server,
        Method::POST,
        "/auth/jwt/login",
        None,
        Some("application/x-www-form-urlencoded"),
        Some(&body),
    )
    .await
}

async fn login_token(server: &Server, email: &str, password: &str) -> String {
    let reply = login(server, email, password).await;
    assert_eq!(reply.status, 200, "login {email}: {}", reply.text);
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

async fn assert_login_refused(server: &Server, email: &str, password: &str) {
    let reply = login(server, email, password).await;
    assert_eq!(reply.status, 400, "login {email}: {}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
}

/// Registers `email` with [`PASSWORD`]; returns the id.
async fn register(server: &Server, email: &str) -> Uuid {
    let (status, body) = server.register(email, PASSWORD).await;
    assert_eq!(status, 201, "{body}");
    Uuid::parse_str(body["id"].as_str().unwrap()).unwrap()
}

async fn stored(server: &Server, id: Uuid) -> Option<User> {
    server.warden.manager().store().get(&id).await.unwrap()
}

fn user_read(id: Uuid, email: &str, active: bool, superuser: bool, verified: bool) -> Value {
    json!({
        "id": id.to_string(),
        "email": email,
        "is_active": active,
        "is_superuser": superuser,
        "is_verified": verified,
    })
}

/// 202 with the JSON body `null`.
#[track_caller]
fn assert_accepted(reply: &Reply) {
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.text, "null");
}

/// 200 with the JSON body `null`.
#[track_caller]
fn assert_ok_null(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.text, "null");
}

#[track_caller]
fn assert_status_json(reply: &Reply, status: u16, expected: Value) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.json(), expected);
}

#[track_caller]
fn assert_reset_bad_token(reply: &Reply) {
    assert_status_json(reply, 400, json!({"detail": "RESET_PASSWORD_BAD_TOKEN"}));
}

#[track_caller]
fn assert_verify_bad_token(reply: &Reply) {
    assert_status_json(reply, 400, json!({"detail": "VERIFY_USER_BAD_TOKEN"}));
}

#[track_caller]
fn assert_unauthorized(reply: &Reply) {
    assert_status_json(reply, 401, json!({"detail": "Unauthorized"}));
}

fn reset_invalid_password(reason: &str) -> Value {
    json!({"detail": {"code": "RESET_PASSWORD_INVALID_PASSWORD", "reason": reason}})
}

/// Signs `claims` with HS256 and `secret`, as an attacker or another issuer would.
fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// The claims of `token` with `changes` merged in, re-signed with `secret`.
fn resign(token: &str, changes: Value, secret: &str) -> String {
    let mut claims = claims(token);
    for (key, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(key);
        } else {
            claims[key] = value.clone();
        }
    }
    sign(&claims, secret)
}

/// A server whose events are a [`warden::DevMailer`] writing to a temporary outbox.
struct Mail {
    server: Server,
    outbox: PathBuf,
    _dir: tempfile::TempDir,
}

impl Mail {
    /// Every message written so far.
    fn lines(&self) -> Vec<Value> {
        match std::fs::read_to_string(&self.outbox) {
            Ok(text) => text
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => panic!("{error}"),
        }
    }

    /// The one message written by `action`, checked whole; returns its token.
    async fn token_from<F: std::future::Future<Output = Reply>>(
        &self,
        action: F,
        event: &str,
        id: Uuid,
        email: &str,
    ) -> String {
        let before = self.lines().len();
        assert_accepted(&action.await);
        // The hook runs off the request (the 202 does not wait for the mail).
        common::until_seen(event, async || self.lines().len() > before).await;
        let lines = self.lines();
        assert_eq!(lines.len(), before + 1, "{lines:?}");
        let mut line = lines[before].clone();
        let token = line
            .as_object_mut()
            .unwrap()
            .remove("token")
            .unwrap_or_else(|| panic!("no token: {:?}", lines[before]));
        assert_eq!(
            line,
            json!({"event": event, "user_id": id.to_string(), "email": email})
        );
        token.as_str().unwrap().to_owned()
    }

    async fn reset_token(&self, id: Uuid, email: &str) -> String {
        self.token_from(forgot(&self.server, email), "forgot_password", id, email)
            .await
    }

    async fn verify_token(&self, id: Uuid, email: &str) -> String {
        self.token_from(
            request_verify(&self.server, email),
            "request_verify",
            id,
            email,
        )
        .await
    }

    /// Runs `action`, which must answer 202 `null` and write nothing.
    async fn assert_silent<F: std::future::Future<Output = Reply>>(&self, action: F) {
        let before = self.lines();
        assert_accepted(&action.await);
        assert_eq!(self.lines(), before);
    }
}

/// A warden with the [`common::Jwt`] backend, a development mailer and the given
/// token secrets.
async fn spawn_mail_with(
    reset: Option<&str>,
    verify: Option<&str>,
    requires_verification: bool,
) -> Mail {
    spawn_mail_on(
        Clock::system(),
        reset.map(TokenSettings::new),
        verify.map(TokenSettings::new),
        requires_verification,
    )
    .await
}

/// A warden with the [`common::Jwt`] backend and a development mailer, measuring
/// time on `clock`, with the given token settings.
async fn spawn_mail_on(
    clock: Clock,
    reset: Option<TokenSettings>,
    verify: Option<TokenSettings>,
    requires_verification: bool,
) -> Mail {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox.jsonl");
    let mut builder = Warden::<warden::User>::builder()
        .clock(clock)
        .store(MemoryStore::new())
        .backend::<common::Jwt>()
        .unwrap()
        .events(warden::DevMailer::new(&outbox))
        .requires_verification(requires_verification);
    if let Some(settings) = reset {
        builder = builder.reset_password(settings);
    }
    if let Some(settings) = verify {
        builder = builder.verification(settings);
    }
    Mail {
        server: common::spawn_with(builder.build().unwrap()).await,
        outbox,
        _dir: dir,
    }
}

async fn spawn_mail() -> Mail {
    spawn_mail_with(Some(RESET_SECRET), Some(VERIFY_SECRET), false).await
}

// ---------------------------------------------------------------------------------
// POST /auth/forgot-password
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn forgot_password_is_202_null_and_mails_only_existing_active_users() {
    let mail = spawn_mail().await;
    let server = &mail.server;
    let ann = register(server, "Ann@example.com").await;
    register(server, "ina@example.com").await;
    server
        .set_flags("ina@example.com", false, true, false)
        .await;

    // An existing active user: one message, to the stored address (looked up in any
    // case).
    let token = mail.reset_token(ann, "Ann@example.com").await;
    let claims = claims(&token);
    assert_eq!(claims["sub"], ann.to_string());
    let aud = &claims["aud"];
    assert!(
        *aud == json!("fastapi-users:reset") || *aud == json!(["fastapi-users:reset"]),
        "{claims}"
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    // The fingerprint does not reveal the password hash.
    let fingerprint = claims["password_fgpt"].as_str().unwrap();
    let hash = stored(server, ann).await.unwrap().hashed_password;
    assert!(
        !fingerprint.is_empty() && !fingerprint.contains("argon2") && !hash.contains(fingerprint)
    );
    let again = mail
        .token_from(
            forgot(server, "ANN@EXAMPLE.COM"),
            "forgot_password",
            ann,
            "Ann@example.com",
        )
        .await;
    assert_ne!(again, token);

    // Unknown and inactive users: the same answer, no message.
    mail.assert_silent(forgot(server, "nobody@example.com"))
        .await;
    mail.assert_silent(forgot(server, "ina@example.com")).await;
    assert_eq!(mail.lines().len(), 2);
}

/// A mail hook as slow as a mail server that does not answer.
struct StalledMail;

#[warden::async_trait]
impl UserEvents for StalledMail {
    async fn on_after_forgot_password(&self, _user: &User, _token: &str) {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }

    async fn on_after_request_verify(&self, _user: &User, _token: &str) {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
}

/// Awaited inline, the mail hook made an existing account's answer as slow as the
/// mail and an unknown one's immediate: whoever times the 202 learns which
/// addresses have accounts (user enumeration). Both now answer without the mail.
#[tokio::test]
async fn forgot_password_and_request_verify_do_not_wait_for_the_mail() {
    let warden: Warden = Warden::builder()
        .store(MemoryStore::new())
        .backend::<common::Jwt>()
        .unwrap()
        .events(StalledMail)
        .reset_password(TokenSettings::new(RESET_SECRET))
        .verification(TokenSettings::new(VERIFY_SECRET))
        .build()
        .unwrap();
    let server = &common::spawn_with(warden).await;
    register(server, "ann@example.com").await;
    let within = std::time::Duration::from_secs(5);
    for email in ["ann@example.com", "nobody@example.com"] {
        let reply = tokio::time::timeout(within, forgot(server, email))
            .await
            .unwrap_or_else(|_| panic!("forgot-password for {email} waited for the mail"));
        assert_accepted(&reply);
        let reply = tokio::time::timeout(within, request_verify(server, email))
            .await
            .unwrap_or_else(|_| panic!("request-verify-token for {email} waited for the mail"));
        assert_accepted(&reply);
    }
}

#[tokio::test]
async fn forgot_password_bad_bodies_are_422() {
    let mail = spawn_mail().await;
    let server = &mail.server;
    register(server, "bea@example.com").await;
    let reply = forgot(server, "not-an-email").await;
    assert_status_json(
        &reply,
        422,
        json!({"detail": [{
            "type": "value_error",
            "loc": ["body", "email"],
            "msg": "value is not a valid email address: An email address must have an @-sign.",
        }]}),
    );
    let reply = post(server, "/auth/forgot-password", &json!({})).await;
    assert_status_json(
        &reply,
        422,
        json!({"detail": [{"type": "missing", "loc": ["body", "email"], "msg": "Field required"}]}),
    );
    let reply = post(server, "/auth/forgot-password", &json!({"email": 7})).await;
    assert_status_json(
        &reply,
        422,
        json!({"detail": [{"type": "string_type", "loc": ["body", "email"], "msg": "Input should be a valid string"}]}),
    );
    let reply = send(
        server,
        Method::POST,
        "/auth/forgot-password",
        None,
        Some("application/x-www-form-urlencoded"),
        Some("email=bea%40example.com"),
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(reply.json()["detail"][0]["loc"], json!(["body"]));
    assert!(mail.lines().is_empty());
}

// ---------------------------------------------------------------------------------
// POST /auth/reset-password
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn reset_password_sets_the_password_once() {
    let mail = spawn_mail().await;
    let server = &mail.server;
    let id = register(server, "cal@example.com").await;
    let access = login_token(server, "cal@example.com", PASSWORD).await;
    let before = stored(server, id).await.unwrap();
    let token = mail.reset_token(id, "cal@example.com").await;

    assert_ok_null(&reset(server, &token, NEW_PASSWORD).await);
    let after = stored(server, id).await.unwrap();
    assert_ne!(after.hashed_password, before.hashed_password);
    assert_eq!(
        User {
            hashed_password: before.hashed_password.clone(),
            ..after.clone()
        },
        before,
        "only the password changed"
    );
    assert_login_refused(server, "cal@example.com", PASSWORD).await;
    login_token(server, "cal@example.com", NEW_PASSWORD).await;
    // Whoever held the account's tokens is out (ASVS 7.4.1); FastAPI Users' JWTs
    // would live on.
    assert_eq!(get(server, "/users/me", Some(&access)).await.status, 401);

    // Single use: the fingerprint no longer matches.
    assert_reset_bad_token(&reset(server, &token, "yet another password").await);
    assert_reset_bad_token(&reset(server, &token, NEW_PASSWORD).await);
    assert_eq!(stored(server, id).await.unwrap(), after);
}

#[tokio::test]
async fn reset_password_refuses_every_other_token() {
    let mail = spawn_mail().await;
    let server = &mail.server;
    let id = register(server, "dee@example.com").await;
    let gone = register(server, "gone@example.com").await;
    let access = login_token(server, "dee@example.com", PASSWORD).await;
    let token = mail.reset_token(id, "dee@example.com").await;
    let gone_token = mail.reset_token(gone, "gone@example.com").await;
    server.warden.manager().store().delete(&gone).await.unwrap();
    let verify_token = mail.verify_token(id, "dee@example.com").await;
    let before = stored(server, id).await.unwrap();
    let now = now();

    let refused = [
        ("garbage", "garbage".to_owned()),
        ("three dots", "a.b.c".to_owned()),
        (
            "expired",
            resign(
                &token,
                json!({"iat": now - 7200, "exp": now - 3600}),
                RESET_SECRET,
            ),
        ),
        (
            "expired a second ago",
            resign(
                &token,
                json!({"iat": now - 3601, "exp": now - 1}),
                RESET_SECRET,
            ),
        ),
        ("no exp", resign(&token, json!({"exp": null}), RESET_SECRET)),
        (
            "wrong secret",
            resign(
                &token,
                json!({}),
                "another-secret-that-is-at-least-32-bytes",
            ),
        ),
        (
            "signed with the verify secret",
            resign(&token, json!({}), VERIFY_SECRET),
        ),
        (
            "signed with the access secret",
            resign(&token, json!({}), common::SECRET),
        ),
        (
            "another audience",
            resign(&token, json!({"aud": "fastapi-users:verify"}), RESET_SECRET),
        ),
        (
            "unknown user",
            resign(
                &token,
                json!({"sub": Uuid::new_v4().to_string()}),
                RESET_SECRET,
            ),
        ),
        (
            "sub not a uuid",
            resign(&token, json!({"sub": "dee@example.com"}), RESET_SECRET),
        ),
        (
            "no fingerprint",
            resign(&token, json!({"password_fgpt": null}), RESET_SECRET),
        ),
        (
            "forged fingerprint",
            resign(&token, json!({"password_fgpt": "AAAA"}), RESET_SECRET),
        ),
        ("a verify token", verify_token),
        ("an access token", access),
        ("a deleted user's token", gone_token),
    ];
    for (what, bad) in &refused {
        let reply = reset(server, bad, NEW_PASSWORD).await;
        assert_eq!(reply.status, 400, "{what}: {}", reply.text);
        assert_reset_bad_token(&reply);
    }
    assert_eq!(stored(server, id).await.unwrap(), before);

    // Sanity: the same re-signing with a valid `exp` is accepted, so each refusal
    // above is about the one thing it changes; and the real token was not used up.
    let resigned = resign(&token, json!({"iat": now, "exp": now + 600}), RESET_SECRET);
    let reply = reset(server, &resigned, NEW_PASSWORD).await;
    assert_ok_null(&reply);
    login_token(server, "dee@example.com", NEW_PASSWORD).await;
    assert_reset_bad_token(&reset(server, &token, PASSWORD).await);
}

/// Reset and verify tokens are issued and checked on the warden's clock: moving a
/// manual clock past their lifetime expires them, without sleeping.
#[tokio::test]
async fn reset_and_verify_tokens_expire_on_the_warden_clock() {
    let clock = Clock::manual(now());
    let mail = spawn_mail_on(
        clock.clone(),
        Some(TokenSettings::new(RESET_SECRET).lifetime(60)),
        Some(TokenSettings::new(VERIFY_SECRET).lifetime(60)),
        false,
    )
    .await;
    let server = &mail.server;
    let email = "eli@example.com";
    let id = register(server, email).await;
    let issued = clock.now();
    let old_reset = mail.reset_token(id, email).await;
    let old_verify = mail.verify_token(id, email).await;
    for token in [&old_reset, &old_verify] {
        let claims = claims(token);
        assert_eq!(claims["iat"].as_i64(), Some(issued), "iat from the clock");
        assert_eq!(claims["exp"].as_i64(), Some(issued + 60));
    }
    clock.advance(30);
    let reset_token = mail.reset_token(id, email).await;
    let verify_token = mail.verify_token(id, email).await;
    // 61 s after the first pair, 31 s after the second.
    clock.advance(31);
    assert_reset_bad_token(&reset(server, &old_reset, NEW_PASSWORD).await);
    assert_verify_bad_token(&verify(server, &old_verify).await);
    login_token(server, email, PASSWORD).await;

    assert_ok_null(&reset(server, &reset_token, NEW_PASSWORD).await);
    let reply = verify(server, &verify_token).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["is_verified"], json!(true));
    login_token(server, email, NEW_PASSWORD).await;
}

#[tokio::test]
async fn reset_password_for_a_since_deactivated_user_is_a_bad_token() {
    let mail = spawn_mail().await;
    let server = &mail.server;
    let id = register(server, "fay@example.com").await;
    let token = mail.reset_token(id, "fay@example.com").await;
    server
        .set_flags("fay@example.com", false, false, false)
        .await;
    let before = stored(server, id).await.unwrap();
    assert_reset_bad_token(&reset(server, &token, NEW_PASSWORD).await);
    assert_eq!(stored(server, id).await.unwrap(), before);

    // Reactivated, the token (still unused, same password) works again.
    server
        .set_flags("fay@example.com", true, false, false)
        .await;
    assert_ok_null(&reset(server, &token, NEW_PASSWORD).await);
    login_token(server, "fay@example.com", NEW_PASSWORD).await;
}

#[tokio::test]
async fn reset_password_refused_password_keeps_the_token_usable() {
    let mail = spawn_mail().await;
    let server = &mail.server;
    let id = register(server, "gus@example.com").await;
    let token = mail.reset_token(id, "gus@example.com").await;
    let before = stored(server, id).await.unwrap();
    for (password, reason) in [
        ("", TOO_SHORT),
        ("short", TOO_SHORT),
        ("1234567", TOO_SHORT),
        (
            "xx-GUS@example.com-xx",
            "Password should not contain e-mail",
        ),
    ] {
        let reply = reset(server, &token, password).await;
        assert_status_json(&reply, 400, reset_invalid_password(reason));
        assert_eq!(stored(server, id).await.unwrap(), before, "{password:?}");
    }
    // A bad token is reported before a bad password.
    assert_reset_bad_token(&reset(server, "garbage", "short").await);

    assert_ok_null(&reset(server, &token, NEW_PASSWORD).await);
    login_token(server, "gus@example.com", NEW_PASSWORD).await;
}

#[tokio::test]
async fn reset_token_dies_when_the_password_changes() {
    let mail = spawn_mail().await;
    let server = &mail.server;
    let id = register(server, "hana@example.com").await;
    let access = login_token(server, "hana@example.com", PASSWORD).await;

    // Changed through PATCH /users/me.
    let token = mail.reset_token(id, "hana@example.com").await;
    let reply = patch_me(server, &access, &json!({"password": NEW_PASSWORD})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_reset_bad_token(&reset(server, &token, "third password!").await);
    login_token(server, "hana@example.com", NEW_PASSWORD).await;

    // Changed by another reset: two outstanding tokens, the first use kills the other.
    let first = mail.reset_token(id, "hana@example.com").await;
    let second = mail.reset_token(id, "hana@example.com").await;
    assert_ok_null(&reset(server, &second, "fourth password!").await);
    assert_reset_bad_token(&reset(server, &first, "fifth password!").await);
    let access = login_token(server, "hana@example.com", "fourth password!").await;

    // An e-mail change alone does not touch the password: the token stays valid.
    let token = mail.reset_token(id, "hana@example.com").await;
    let reply = patch_me(server, &access, &json!({"email": "hana2@example.com"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_ok_null(&reset(server, &token, "sixth password!").await);
    login_token(server, "hana2@example.com", "sixth password!").await;
}

#[tokio::test]
async fn reset_password_bad_bodies_are_422() {
    let mail = spawn_mail().await;
    let server = &mail.server;
    let reply = post(server, "/auth/reset-password", &json!({})).await;
    assert_status_json(
        &reply,
        422,
        json!({"detail": [
            {"type": "missing", "loc": ["body", "token"], "msg": "Field required"},
            {"type": "missing", "loc": ["body", "password"], "msg": "Field required"},
        ]}),
    );
    let reply = post(
        server,
        "/auth/reset-password",
        &json!({"token": 1, "password": NEW_PASSWORD}),
    )
    .await;
    assert_status_json(
        &reply,
        422,
        json!({"detail": [
            {"type": "string_type", "loc": ["body", "token"], "msg": "Input should be a valid string"},
        ]}),
    );
    let reply = post(
        server,
        "/auth/reset-password",
        &json!({"token": "t", "password": "p".repeat(4097)}),
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(reply.json()["detail"][0]["type"], "string_too_long");
    assert_eq!(
        reply.json()["detail"][0]["loc"],
        json!(["body", "password"])
    );
}

// ---------------------------------------------------------------------------------
// Routes absent without settings
// ---------------------------------------------------------------------------------

const RESET_ROUTES: [&str; 2] = ["/auth/forgot-password", "/auth/reset-password"];
const VERIFY_ROUTES: [&str; 2] = ["/auth/request-verify-token", "/auth/verify"];

async fn route_status(server: &Server, path: &str) -> u16 {
    post(
        server,
        path,
        &json!({"email": "x@example.com", "token": "t", "password": PASSWORD}),
    )
    .await
    .status
}

fn table_has(server: &Server, path: &str) -> bool {
    server
        .warden
        .route_table()
        .iter()
        .any(|(method, p, _)| *method == "POST" && p == path)
}

#[tokio::test]
async fn reset_and_verify_routes_exist_only_when_configured() {
    // Neither configured.
    let server = common::spawn().await;
    for path in RESET_ROUTES.into_iter().chain(VERIFY_ROUTES) {
        assert_eq!(route_status(&server, path).await, 404, "{path}");
        assert!(!table_has(&server, path), "{path}");
    }
    // Reset only.
    let mail = spawn_mail_with(Some(RESET_SECRET), None, false).await;
    for path in RESET_ROUTES {
        assert_ne!(route_status(&mail.server, path).await, 404, "{path}");
        assert!(table_has(&mail.server, path), "{path}");
    }
    for path in VERIFY_ROUTES {
        assert_eq!(route_status(&mail.server, path).await, 404, "{path}");
        assert!(!table_has(&mail.server, path), "{path}");
    }
    // Verification only.
    let mail = spawn_mail_with(None, Some(VERIFY_SECRET), false).await;
    for path in RESET_ROUTES {
        assert_eq!(route_status(&mail.server, path).await, 404, "{path}");
    }
    for path in VERIFY_ROUTES {
        assert_ne!(route_status(&mail.server, path).await, 404, "{path}");
        assert!(table_has(&mail.server, path), "{path}");
    }
}

// ---------------------------------------------------------------------------------
// POST /auth/request-verify-token and /auth/verify
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn request_verify_token_is_202_null_and_mails_only_unverified_active_users() {
    let mail = spawn_mail().await;
    let server = &mail.server;
    let ida = register(server, "Ida@example.com").await;
    register(server, "inactive@example.com").await;
    register(server, "done@example.com").await;
    server
        .set_flags("inactive@example.com", false, false, false)
        .await;
    server
        .set_flags("done@example.com", true, true, false)
        .await;

    let token = mail.verify_token(ida, "Ida@example.com").await;
    let claims = claims(&token);
    assert_eq!(claims["sub"], ida.to_string());
    assert_eq!(claims["email"], "Ida@example.com");
    let aud = &claims["aud"];
    assert!(
        *aud == json!("fastapi-users:verify") || *aud == json!(["fastapi-users:verify"]),
        "{claims}"
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    // Looked up in any case.
    mail.token_from(
        request_verify(server, "IDA@EXAMPLE.COM"),
        "request_verify",
        ida,
        "Ida@example.com",
    )
    .await;

    mail.assert_silent(request_verify(server, "nobody@example.com"))
        .await;
    mail.assert_silent(request_verify(server, "inactive@example.com"))
        .await;
    mail.assert_silent(request_verify(server, "done@example.com"))
        .await;
    assert_eq!(mail.lines().len(), 2);

    let reply = request_verify(server, "not-an-email").await;
    assert_status_json(
        &reply,
        422,
        json!({"detail": [{
            "type": "value_error",
            "loc": ["body", "email"],
            "msg": "value is not a valid email address: An email address must have an @-sign.",
        }]}),
    );
    let reply = post(server, "/auth/request-verify-token", &json!({})).await;
    assert_status_json(
        &reply,
        422,
        json!({"detail": [{"type": "missing", "loc": ["body", "email"], "msg": "Field required"}]}),
    );
    assert_eq!(mail.lines().len(), 2);
}

#[tokio::test]
async fn verify_marks_the_user_verified_once() {
    let mail = spawn_mail().await;
    let server = &mail.server;
    let id = register(server, "jon@example.com").await;
    let access = login_token(server, "jon@example.com", PASSWORD).await;
    assert_eq!(
        get(server, "/verified-route", Some(&access)).await.status,
        403
    );
    let token = mail.verify_token(id, "jon@example.com").await;

    let reply = verify(server, &token).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.json(),
        user_read(id, "jon@example.com", true, false, true)
    );
    assert!(stored(server, id).await.unwrap().is_verified);
    assert_eq!(
        get(server, "/verified-route", Some(&access)).await.status,
        200
    );

    let reply = verify(server, &token).await;
    assert_status_json(
        &reply,
        400,
        json!({"detail": "VERIFY_USER_ALREADY_VERIFIED"}),
    );
    // Verified: no new token is sent.
    mail.assert_silent(request_verify(server, "jon@example.com"))
        .await;
}

#[tokio::test]
async fn verify_of_a_user_verified_meanwhile_is_already_verified() {
    let mail = spawn_mail().await;
    let server = &mail.server;
    let id = register(server, "kai@example.com").await;
    let token = mail.verify_token(id, "kai@example.com").await;
    server.set_flags("kai@example.com", true, true, false).await;
    let reply = verify(server, &token).await;
    assert_status_json(
        &reply,
        400,
        json!({"detail": "VERIFY_USER_ALREADY_VERIFIED"}),
    );
    // A bad token is reported as such even for a verified user.
    let forged = resign(&token, json!({}), RESET_SECRET);
    assert_verify_bad_token(&verify(server, &forged).await);
}

#[tokio::test]
async fn verify_refuses_every_other_token() {
    let mail = spawn_mail().await;
    let server = &mail.server;
    let id = register(server, "liv@example.com").await;
    let access = login_token(server, "liv@example.com", PASSWORD).await;
    let token = mail.verify_token(id, "liv@example.com").await;
    let reset_token = mail.reset_token(id, "liv@example.com").await;
    let now = now();

    let refused = [
        ("garbage", "garbage".to_owned()),
        ("empty", String::new()),
        ("three dots", "a.b.c".to_owned()),
        (
            "expired",
            resign(
                &token,
                json!({"iat": now - 7200, "exp": now - 3600}),
                VERIFY_SECRET,
            ),
        ),
        (
            "no exp",
            resign(&token, json!({"exp": null}), VERIFY_SECRET),
        ),
        (
            "wrong secret",
            resign(
                &token,
                json!({}),
                "another-secret-that-is-at-least-32-bytes",
            ),
        ),
        (
            "signed with the reset secret",
            resign(&token, json!({}), RESET_SECRET),
        ),
        (
            "another audience",
            resign(&token, json!({"aud": "fastapi-users:reset"}), VERIFY_SECRET),
        ),
        (
            "unknown e-mail",
            resign(
                &token,
                json!({"email": "nobody@example.com"}),
                VERIFY_SECRET,
            ),
        ),
        (
            "another user's id",
            resign(
                &token,
                json!({"sub": Uuid::new_v4().to_string()}),
                VERIFY_SECRET,
            ),
        ),
        (
            "no e-mail",
            resign(&token, json!({"email": null}), VERIFY_SECRET),
        ),
        ("a reset token", reset_token),
        ("an access token", access),
    ];
    for (what, bad) in &refused {
        let reply = verify(server, bad).await;
        assert_eq!(reply.status, 400, "{what}: {}", reply.text);
        assert_verify_bad_token(&reply);
    }
    assert!(!stored(server, id).await.unwrap().is_verified);

    // Sanity: re-signed with a valid `exp`, the same claims verify.
    let resigned = resign(&token, json!({"iat": now, "exp": now + 600}), VERIFY_SECRET);
    let reply = verify(server, &resigned).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.json(),
        user_read(id, "liv@example.com", true, false, true)
    );
}

#[tokio::test]
async fn verify_token_issued_before_an_email_change_is_bad() {
    let mail = spawn_mail().await;
    let server = &mail.server;
    let id = register(server, "mo@example.com").await;
    let access = login_token(server, "mo@example.com", PASSWORD).await;
    let old = mail.verify_token(id, "mo@example.com").await;
    let reply = patch_me(server, &access, &json!({"email": "mo.new@example.com"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);

    assert_verify_bad_token(&verify(server, &old).await);
    assert!(!stored(server, id).await.unwrap().is_verified);

    // A token for the new address works.
    let fresh = mail.verify_token(id, "mo.new@example.com").await;
    let reply = verify(server, &fresh).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.json(),
        user_read(id, "mo.new@example.com", true, false, true)
    );
    // Changing the e-mail again unverifies, and the used token stays dead.
    let reply = patch_me(server, &access, &json!({"email": "mo.third@example.com"})).await;
    assert_eq!(
        reply.json(),
        user_read(id, "mo.third@example.com", true, false, false)
    );
    assert_verify_bad_token(&verify(server, &fresh).await);
}

#[tokio::test]
async fn action_tokens_are_never_access_tokens_even_with_one_shared_secret() {
    // All three kinds signed with the same secret: only the audience separates them.
    let mail = spawn_mail_with(Some(common::SECRET), Some(common::SECRET), false).await;
    let server = &mail.server;
    let id = register(server, "ned@example.com").await;
    let access = login_token(server, "ned@example.com", PASSWORD).await;
    let reset_token = mail.reset_token(id, "ned@example.com").await;
    let verify_token = mail.verify_token(id, "ned@example.com").await;

    let by_id = format!("/users/{id}");
    for token in [&reset_token, &verify_token] {
        for path in ["/users/me", "/authenticated-route", by_id.as_str()] {
            assert_unauthorized(&get(server, path, Some(token)).await);
        }
        let reply = send(
            server,
            Method::POST,
            "/auth/jwt/refresh",
            Some(token),
            None,
            None,
        )
        .await;
        assert_unauthorized(&reply);
        let reply = get(server, "/optional-route", Some(token)).await;
        assert_eq!(reply.json(), json!({"message": "Hello anonymous!"}));
    }
    assert_verify_bad_token(&verify(server, &reset_token).await);
    assert_verify_bad_token(&verify(server, &access).await);
    assert_reset_bad_token(&reset(server, &verify_token, NEW_PASSWORD).await);
    assert_reset_bad_token(&reset(server, &access, NEW_PASSWORD).await);

    // Each works where it belongs.
    assert_eq!(verify(server, &verify_token).await.status, 200);
    assert_ok_null(&reset(server, &reset_token, NEW_PASSWORD).await);
    // The reset ended every token of the user (ASVS 7.4.1).
    assert_eq!(get(server, "/users/me", Some(&access)).await.status, 401);
}

#[tokio::test]
async fn verification_flow_with_requires_verification() {
    let mail = spawn_mail_with(Some(RESET_SECRET), Some(VERIFY_SECRET), true).await;
    let server = &mail.server;
    let id = register(server, "ola@example.com").await;
    let reply = login(server, "ola@example.com", PASSWORD).await;
    assert_status_json(&reply, 400, json!({"detail": "LOGIN_USER_NOT_VERIFIED"}));

    let token = mail.verify_token(id, "ola@example.com").await;
    let reply = verify(server, &token).await;
    assert_eq!(
        reply.json(),
        user_read(id, "ola@example.com", true, false, true)
    );
    let access = login_token(server, "ola@example.com", PASSWORD).await;
    let reply = get(server, "/users/me", Some(&access)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        user_read(id, "ola@example.com", true, false, true)
    );

    // A password reset needs no verified session: it works for an unverified user.
    server
        .set_flags("ola@example.com", true, false, false)
        .await;
    let token = mail.reset_token(id, "ola@example.com").await;
    assert_ok_null(&reset(server, &token, NEW_PASSWORD).await);
    let reply = login(server, "ola@example.com", NEW_PASSWORD).await;
    assert_status_json(&reply, 400, json!({"detail": "LOGIN_USER_NOT_VERIFIED"}));
}

// ---------------------------------------------------------------------------------
// Lifecycle hooks
// ---------------------------------------------------------------------------------

/// One hook call, with the user as the hook saw it (minus the hash).
#[derive(Debug, Clone, PartialEq)]
enum Hook {
    ValidatePassword {
        password: String,
        email: String,
    },
    Register(Seen),
    Login(Seen),
    Update(Seen, UserUpdate),
    RequestVerify(Seen, String),
    Verify(Seen),
    ForgotPassword(Seen, String),
    ResetPassword(Seen),
    /// The user, and whether the store still held them when the hook ran.
    BeforeDelete(Seen, bool),
    AfterDelete(Seen, bool),
}

#[derive(Debug, Clone, PartialEq)]
struct Seen {
    id: Uuid,
    email: String,
    active: bool,
    superuser: bool,
    verified: bool,
}

impl Seen {
    fn of(user: &User) -> Self {
        Self {
            id: user.id,
            email: user.email.clone(),
            active: user.is_active,
            superuser: user.is_superuser,
            verified: user.is_verified,
        }
    }

    fn new(id: Uuid, email: &str, active: bool, superuser: bool, verified: bool) -> Self {
        Self {
            id,
            email: email.to_owned(),
            active,
            superuser,
            verified,
        }
    }
}

/// Records every hook; its password rule wants a digit.
struct Recorder {
    log: Arc<Mutex<Vec<Hook>>>,
    store: Arc<dyn UserStore>,
}

impl Recorder {
    fn push(&self, hook: Hook) {
        self.log.lock().unwrap().push(hook);
    }
}

const NO_DIGIT: &str = "Password should contain a digit";

#[warden::async_trait]
impl UserEvents for Recorder {
    async fn validate_password(&self, password: &str, email: &str) -> Result<(), InvalidPassword> {
        self.push(Hook::ValidatePassword {
            password: password.to_owned(),
            email: email.to_owned(),
        });
        if password.chars().any(|c| c.is_ascii_digit()) {
            Ok(())
        } else {
            Err(InvalidPassword::new(NO_DIGIT))
        }
    }

    async fn on_after_register(&self, user: &User) {
        self.push(Hook::Register(Seen::of(user)));
    }

    async fn on_after_login(&self, user: &User) {
        self.push(Hook::Login(Seen::of(user)));
    }

    async fn on_after_update(&self, user: &User, update: &UserUpdate) {
        self.push(Hook::Update(Seen::of(user), update.clone()));
    }

    async fn on_after_request_verify(&self, user: &User, token: &str) {
        self.push(Hook::RequestVerify(Seen::of(user), token.to_owned()));
    }

    async fn on_after_verify(&self, user: &User) {
        self.push(Hook::Verify(Seen::of(user)));
    }

    async fn on_after_forgot_password(&self, user: &User, token: &str) {
        self.push(Hook::ForgotPassword(Seen::of(user), token.to_owned()));
    }

    async fn on_after_reset_password(&self, user: &User) {
        self.push(Hook::ResetPassword(Seen::of(user)));
    }

    async fn on_before_delete(&self, user: &User) {
        let present = self.store.get(&user.id).await.unwrap().is_some();
        self.push(Hook::BeforeDelete(Seen::of(user), present));
    }

    async fn on_after_delete(&self, user: &User) {
        let present = self.store.get(&user.id).await.unwrap().is_some();
        self.push(Hook::AfterDelete(Seen::of(user), present));
    }
}

struct Hooked {
    server: Server,
    log: Arc<Mutex<Vec<Hook>>>,
}

impl Hooked {
    /// The hooks called since the last call.
    fn take(&self) -> Vec<Hook> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    /// The hooks called since the last call, once one was: the forgot-password and
    /// request-verify hooks run off the request.
    async fn take_delivered(&self) -> Vec<Hook> {
        common::until_seen("the hook", async || !self.log.lock().unwrap().is_empty()).await;
        self.take()
    }
}

async fn spawn_hooked() -> Hooked {
    let store: Arc<dyn UserStore> = Arc::new(MemoryStore::new());
    let log = Arc::new(Mutex::new(Vec::new()));
    let warden: Warden = Warden::builder()
        .shared_store(Arc::clone(&store))
        .backend::<common::Jwt>()
        .unwrap()
        .events(Recorder {
            log: Arc::clone(&log),
            store,
        })
        .reset_password(TokenSettings::new(RESET_SECRET))
        .verification(TokenSettings::new(VERIFY_SECRET))
        .build()
        .unwrap();
    Hooked {
        server: common::spawn_with(warden).await,
        log,
    }
}

fn validate(password: &str, email: &str) -> Hook {
    Hook::ValidatePassword {
        password: password.to_owned(),
        email: email.to_owned(),
    }
}

fn update(email: Option<&str>, password: Option<&str>) -> UserUpdate {
    UserUpdate {
        email: email.map(str::to_owned),
        password: password.map(str::to_owned),
        ..UserUpdate::default()
    }
}

#[tokio::test]
async fn hooks_are_called_in_fastapi_users_order() {
    let hooked = spawn_hooked().await;
    let server = &hooked.server;
    let admin = server
        .warden
        .manager()
        .ensure_superuser("admin@example.com", "admin-password-1".to_owned())
        .await
        .unwrap();
    let admin_token = login_token(server, "admin@example.com", "admin-password-1").await;
    hooked.take();

    // Register: the password rule, then on_after_register with the new user.
    let (status, body) = server.register("Ann@Example.com", "password-1").await;
    assert_eq!(status, 201, "{body}");
    let id = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    let ann = |email: &str, superuser: bool, verified: bool| {
        Seen::new(id, email, true, superuser, verified)
    };
    assert_eq!(
        hooked.take(),
        [
            validate("password-1", "Ann@example.com"),
            Hook::Register(ann("Ann@example.com", false, false)),
        ]
    );
    // A refused password: the hook's reason, and nothing after the rule.
    let (status, body) = server
        .register("bob@example.com", "no digits in here")
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"detail": {"code": "REGISTER_INVALID_PASSWORD", "reason": NO_DIGIT}})
    );
    assert_eq!(
        hooked.take(),
        [validate("no digits in here", "bob@example.com")]
    );
    // The custom rule replaces the default one: short passwords are its business.
    let (status, body) = server.register("cy@example.com", "a1").await;
    assert_eq!(status, 201, "{body}");
    hooked.take();

    // Login: on_after_login; a failed login calls nothing.
    assert_login_refused(server, "ann@example.com", "password-2").await;
    assert_eq!(hooked.take(), []);
    let token = login_token(server, "ann@example.com", "password-1").await;
    assert_eq!(
        hooked.take(),
        [Hook::Login(ann("Ann@example.com", false, false))]
    );

    // PATCH /users/me: on_after_update with the updated user and the update as
    // applied (e-mail normalised, flags dropped).
    let reply = patch_me(
        server,
        &token,
        &json!({"email": "ann.new@EXAMPLE.com", "is_superuser": true}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        hooked.take(),
        [Hook::Update(
            ann("ann.new@example.com", false, false),
            update(Some("ann.new@example.com"), None),
        )]
    );
    let reply = patch_me(server, &token, &json!({"password": "password-2"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        hooked.take(),
        [
            validate("password-2", "ann.new@example.com"),
            Hook::Update(
                ann("ann.new@example.com", false, false),
                update(None, Some("password-2")),
            ),
        ]
    );
    // The new password ended that token: log in again.
    assert_eq!(get(server, "/users/me", Some(&token)).await.status, 401);
    let token = login_token(server, "ann.new@example.com", "password-2").await;
    assert!(matches!(hooked.take().as_slice(), [Hook::Login(_)]));
    let reply = patch_me(server, &token, &json!({"password": "no digit"})).await;
    assert_status_json(
        &reply,
        400,
        json!({"detail": {"code": "UPDATE_USER_INVALID_PASSWORD", "reason": NO_DIGIT}}),
    );
    assert_eq!(hooked.take(), [validate("no digit", "ann.new@example.com")]);

    // Verification: on_after_request_verify with the token, then on_after_verify
    // with the verified user, and no on_after_update.
    assert_accepted(&request_verify(server, "ann.new@example.com").await);
    let hooks = hooked.take_delivered().await;
    let [Hook::RequestVerify(seen, verify_token)] = hooks.as_slice() else {
        panic!("{hooks:?}");
    };
    assert_eq!(*seen, ann("ann.new@example.com", false, false));
    assert_accepted(&request_verify(server, "nobody@example.com").await);
    assert_eq!(hooked.take(), []);
    assert_eq!(verify(server, verify_token).await.status, 200);
    assert_eq!(
        hooked.take(),
        [Hook::Verify(ann("ann.new@example.com", false, true))]
    );
    assert_verify_bad_token(&verify(server, "garbage").await);
    assert_eq!(hooked.take(), []);

    // A superuser's PATCH: the flags are part of the update.
    let reply = send(
        server,
        Method::PATCH,
        &format!("/users/{id}"),
        Some(&admin_token),
        Some("application/json"),
        Some(r#"{"is_superuser": true}"#),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        hooked.take(),
        [Hook::Update(
            ann("ann.new@example.com", true, true),
            UserUpdate {
                is_superuser: Some(true),
                ..UserUpdate::default()
            },
        )]
    );

    // DELETE: on_before_delete while the user is stored, on_after_delete once gone.
    let reply = send(
        server,
        Method::DELETE,
        &format!("/users/{id}"),
        Some(&admin_token),
        None,
        None,
    )
    .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(
        hooked.take(),
        [
            Hook::BeforeDelete(ann("ann.new@example.com", true, true), true),
            Hook::AfterDelete(ann("ann.new@example.com", true, true), false),
        ]
    );
    assert_ne!(admin.id, id);
}

#[tokio::test]
async fn reset_password_hooks_are_forgot_then_rule_then_reset() {
    let hooked = spawn_hooked().await;
    let server = &hooked.server;
    let (status, body) = server.register("dot@example.com", "password-1").await;
    assert_eq!(status, 201, "{body}");
    let id = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    let dot = Seen::new(id, "dot@example.com", true, false, false);
    hooked.take();

    assert_accepted(&forgot(server, "dot@example.com").await);
    let hooks = hooked.take_delivered().await;
    let [Hook::ForgotPassword(seen, token)] = hooks.as_slice() else {
        panic!("{hooks:?}");
    };
    assert_eq!(*seen, dot);
    assert_accepted(&forgot(server, "nobody@example.com").await);
    assert_eq!(hooked.take(), []);

    // A refused password: the rule ran, nothing else.
    let reply = reset(server, token, "no digit").await;
    assert_status_json(&reply, 400, reset_invalid_password(NO_DIGIT));
    assert_eq!(hooked.take(), [validate("no digit", "dot@example.com")]);
    // A bad token: no hook at all.
    assert_reset_bad_token(&reset(server, "garbage", "password-2").await);
    assert_eq!(hooked.take(), []);

    // FastAPI Users' reset_password calls `_update` (not `update`): the password
    // rule, then on_after_reset_password only, no on_after_update.
    assert_ok_null(&reset(server, token, "password-2").await);
    assert_eq!(
        hooked.take(),
        [
            validate("password-2", "dot@example.com"),
            Hook::ResetPassword(dot),
        ]
    );
}
