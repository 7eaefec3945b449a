//! End-to-end HTTP tests of the users router (`/users/me`, `/users/{id}`) and of
//! `requires_verification`, over a real server with the in-memory store: exact status
//! codes and whole JSON bodies, as FastAPI Users' users router answers them, with
//! warden's documented differences.

mod common;

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};
use uuid::Uuid;
use warden::{MemoryStore, User, Warden};

use common::{
    Reply, Server, assert_forbidden, assert_token_refused, assert_unauthorized,
    assert_unauthorized_with,
};

const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "another long password";

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

/// `method path` with an optional bearer token, content type and raw body.
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

/// `method path` with a JSON body.
async fn send_json(
    server: &Server,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> Reply {
    let body = body.to_string();
    send(
        server,
        method,
        path,
        token,
        Some("application/json"),
        Some(&body),
    )
    .await
}

async fn get(server: &Server, path: &str, token: Option<&str>) -> Reply {
    send(server, Method::GET, path, token, None, None).await
}

async fn patch(server: &Server, path: &str, token: Option<&str>, body: &Value) -> Reply {
    send_json(server, Method::PATCH, path, token, body).await
}

async fn delete(server: &Server, path: &str, token: Option<&str>) -> Reply {
    send(server, Method::DELETE, path, token, None, None).await
}

/// `POST /auth/jwt/login` with the form; returns the reply.
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

/// Logs in and returns the access token.
async fn login_token(server: &Server, email: &str, password: &str) -> String {
    let reply = login(server, email, password).await;
    assert_eq!(reply.status, 200, "login {email}: {}", reply.text);
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

/// Asserts that a login is refused with `LOGIN_BAD_CREDENTIALS`.
async fn assert_login_refused(server: &Server, email: &str, password: &str) {
    let reply = login(server, email, password).await;
    assert_eq!(reply.status, 400, "login {email}: {}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
}

/// Registers `email` with [`PASSWORD`] and logs in; returns (id, token).
async fn user(server: &Server, email: &str) -> (Uuid, String) {
    let (status, body) = server.register(email, PASSWORD).await;
    assert_eq!(status, 201, "{body}");
    let id = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    (id, login_token(server, email, PASSWORD).await)
}

/// An active, verified superuser `admin@example.com`; returns (id, token).
async fn admin(server: &Server) -> (Uuid, String) {
    let admin = server
        .warden
        .manager()
        .ensure_superuser("admin@example.com", PASSWORD.to_owned())
        .await
        .unwrap();
    assert!(admin.is_active && admin.is_superuser && admin.is_verified);
    (
        admin.id,
        login_token(server, "admin@example.com", PASSWORD).await,
    )
}

/// The stored record (hash included).
async fn stored(server: &Server, id: Uuid) -> Option<User> {
    server.warden.manager().store().get(&id).await.unwrap()
}

/// The exact `UserRead` of a user.
fn user_read(id: Uuid, email: &str, active: bool, superuser: bool, verified: bool) -> Value {
    json!({
        "id": id.to_string(),
        "email": email,
        "is_active": active,
        "is_superuser": superuser,
        "is_verified": verified,
    })
}

#[track_caller]
fn assert_ok(reply: &Reply, expected: Value) {
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.json(), expected);
}

#[track_caller]
fn assert_status_json(reply: &Reply, status: u16, expected: Value) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.json(), expected);
}

#[track_caller]
fn assert_not_found(reply: &Reply) {
    assert_status_json(reply, 404, json!({"detail": "Not Found"}));
}

fn email_taken() -> Value {
    json!({"detail": "UPDATE_USER_EMAIL_ALREADY_EXISTS"})
}

fn invalid_password(reason: &str) -> Value {
    json!({"detail": {"code": "UPDATE_USER_INVALID_PASSWORD", "reason": reason}})
}

const TOO_SHORT: &str = "Password should be at least 8 characters";

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

const UNKNOWN_ID: &str = "00000000-0000-4000-8000-000000000000";

// ---------------------------------------------------------------------------------
// GET /users/me
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn get_me_is_the_user_read_of_the_caller() {
    let server = common::spawn().await;
    let (id, token) = user(&server, "ann@example.com").await;
    let reply = get(&server, "/users/me", Some(&token)).await;
    assert_ok(&reply, user_read(id, "ann@example.com", true, false, false));
    assert!(!reply.text.contains("hashed_password") && !reply.text.contains("argon2"));

    // Flags are read from the store on each request.
    server.set_flags("ann@example.com", true, true, true).await;
    assert_ok(
        &get(&server, "/users/me", Some(&token)).await,
        user_read(id, "ann@example.com", true, true, true),
    );
}

#[tokio::test]
async fn me_without_a_valid_token_is_401_before_the_body_is_read() {
    let server = common::spawn().await;
    let (id, _) = user(&server, "bob@example.com").await;
    let before = stored(&server, id).await;
    for token in [None, Some("garbage"), Some("a.b.c")] {
        assert_unauthorized_with(&get(&server, "/users/me", token).await, token);
        // A valid body, an invalid one and a malformed one: 401 each, never 422.
        assert_unauthorized_with(
            &patch(
                &server,
                "/users/me",
                token,
                &json!({"email": "new@example.com"}),
            )
            .await,
            token,
        );
        assert_unauthorized_with(
            &patch(&server, "/users/me", token, &json!({"email": 42})).await,
            token,
        );
        assert_unauthorized_with(
            &send(
                &server,
                Method::PATCH,
                "/users/me",
                token,
                Some("application/json"),
                Some("{not json"),
            )
            .await,
            token,
        );
    }
    assert_eq!(stored(&server, id).await, before);
}

#[tokio::test]
async fn me_for_an_inactive_user_is_401() {
    let server = common::spawn().await;
    let (_, token) = user(&server, "cid@example.com").await;
    server.set_flags("cid@example.com", false, true, true).await;
    assert_token_refused(&get(&server, "/users/me", Some(&token)).await);
    assert_token_refused(
        &patch(
            &server,
            "/users/me",
            Some(&token),
            &json!({"email": "cid2@example.com"}),
        )
        .await,
    );
}

// ---------------------------------------------------------------------------------
// PATCH /users/me
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn patch_me_changes_the_email_and_unverifies() {
    let server = common::spawn().await;
    let (id, token) = user(&server, "dan@example.com").await;
    server.set_flags("dan@example.com", true, true, false).await;
    let reply = patch(
        &server,
        "/users/me",
        Some(&token),
        &json!({"email": "Daniel@EXAMPLE.org"}),
    )
    .await;
    // Domain lower-cased, local part kept; a new address is not verified.
    let expected = user_read(id, "Daniel@example.org", true, false, false);
    assert_ok(&reply, expected.clone());
    assert_ok(&get(&server, "/users/me", Some(&token)).await, expected);
    let record = stored(&server, id).await.unwrap();
    assert_eq!(record.email, "Daniel@example.org");
    assert!(!record.is_verified);

    // The new address logs in (any case), the old one no longer does.
    login_token(&server, "daniel@example.org", PASSWORD).await;
    assert_login_refused(&server, "dan@example.com", PASSWORD).await;
    // The old address is free again.
    let (status, body) = server.register("dan@example.com", PASSWORD).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn patch_me_email_taken_in_any_case_is_400_and_changes_nothing() {
    let server = common::spawn().await;
    let (id, token) = user(&server, "eve@example.com").await;
    user(&server, "Frank@example.com").await;
    server.set_flags("eve@example.com", true, true, false).await;
    let before = stored(&server, id).await.unwrap();
    for email in [
        "Frank@example.com",
        "frank@example.com",
        "FRANK@EXAMPLE.COM",
        "fRaNk@Example.Com",
    ] {
        let reply = patch(&server, "/users/me", Some(&token), &json!({"email": email})).await;
        assert_status_json(&reply, 400, email_taken());
        assert_eq!(stored(&server, id).await.unwrap(), before, "{email}");
    }
    // The same with a password beside it: neither is applied.
    let reply = patch(
        &server,
        "/users/me",
        Some(&token),
        &json!({"email": "frank@example.com", "password": NEW_PASSWORD}),
    )
    .await;
    assert_status_json(&reply, 400, email_taken());
    assert_eq!(stored(&server, id).await.unwrap(), before);
    login_token(&server, "eve@example.com", PASSWORD).await;
    assert_login_refused(&server, "eve@example.com", NEW_PASSWORD).await;
}

#[tokio::test]
async fn patch_me_with_the_same_email_is_a_no_op() {
    let server = common::spawn().await;
    let (id, token) = user(&server, "Gil@example.com").await;
    server.set_flags("Gil@example.com", true, true, false).await;
    let before = stored(&server, id).await.unwrap();
    // The same address, also with the domain in another case (it normalises to the
    // same string): still verified, nothing written.
    for email in ["Gil@example.com", "Gil@EXAMPLE.COM"] {
        let reply = patch(&server, "/users/me", Some(&token), &json!({"email": email})).await;
        assert_ok(&reply, user_read(id, "Gil@example.com", true, false, true));
        assert_eq!(stored(&server, id).await.unwrap(), before, "{email}");
    }
    // An empty update is a no-op too.
    let reply = patch(&server, "/users/me", Some(&token), &json!({})).await;
    assert_ok(&reply, user_read(id, "Gil@example.com", true, false, true));
    assert_eq!(stored(&server, id).await.unwrap(), before);
}

#[tokio::test]
async fn patch_me_changes_the_password() {
    let server = common::spawn().await;
    let (id, token) = user(&server, "hal@example.com").await;
    let before = stored(&server, id).await.unwrap();
    let reply = patch(
        &server,
        "/users/me",
        Some(&token),
        &json!({"password": NEW_PASSWORD}),
    )
    .await;
    assert_ok(&reply, user_read(id, "hal@example.com", true, false, false));
    assert!(!reply.text.contains(NEW_PASSWORD));

    let after = stored(&server, id).await.unwrap();
    assert_ne!(after.hashed_password, before.hashed_password);
    assert!(after.hashed_password.starts_with("$argon2id$"));
    assert_eq!(
        User {
            hashed_password: before.hashed_password.clone(),
            ..after
        },
        before,
        "only the hash changed"
    );

    assert_login_refused(&server, "hal@example.com", PASSWORD).await;
    let fresh = login_token(&server, "hal@example.com", NEW_PASSWORD).await;
    assert_eq!(get(&server, "/users/me", Some(&fresh)).await.status, 200);
    // A new password ends every earlier token (ASVS 7.4.1), where FastAPI Users'
    // stateless JWTs would live on.
    assert_eq!(get(&server, "/users/me", Some(&token)).await.status, 401);
}

#[tokio::test]
async fn patch_me_refused_password_is_400_with_reason_and_changes_nothing() {
    let server = common::spawn().await;
    let (id, token) = user(&server, "ivy@example.com").await;
    let before = stored(&server, id).await.unwrap();
    for (password, reason) in [
        ("", TOO_SHORT),
        ("short", TOO_SHORT),
        ("1234567", TOO_SHORT),
        ("ééééééé", TOO_SHORT),
        (
            "my-IVY@example.com-pw",
            "Password should not contain e-mail",
        ),
    ] {
        let reply = patch(
            &server,
            "/users/me",
            Some(&token),
            &json!({"password": password}),
        )
        .await;
        assert_status_json(&reply, 400, invalid_password(reason));
        assert_eq!(stored(&server, id).await.unwrap(), before, "{password:?}");
    }
    // With a valid new e-mail beside it: the e-mail is not applied either.
    let reply = patch(
        &server,
        "/users/me",
        Some(&token),
        &json!({"email": "ivy2@example.com", "password": "short"}),
    )
    .await;
    assert_status_json(&reply, 400, invalid_password(TOO_SHORT));
    assert_eq!(stored(&server, id).await.unwrap(), before);
    login_token(&server, "ivy@example.com", PASSWORD).await;
}

/// FastAPI Users validates `UserUpdate` fields in declaration order (`password`
/// before `email`), so a refused password is reported even when the e-mail is also
/// taken (checked against FastAPI Users 15.0.5).
#[tokio::test]
async fn patch_me_refused_password_is_reported_before_a_taken_email() {
    let server = common::spawn().await;
    let (id, token) = user(&server, "kim@example.com").await;
    user(&server, "lee@example.com").await;
    let before = stored(&server, id).await.unwrap();
    let reply = patch(
        &server,
        "/users/me",
        Some(&token),
        &json!({"email": "lee@example.com", "password": "short"}),
    )
    .await;
    assert_status_json(&reply, 400, invalid_password(TOO_SHORT));
    assert_eq!(stored(&server, id).await.unwrap(), before);
}

#[tokio::test]
async fn patch_me_ignores_privileged_flags() {
    let server = common::spawn().await;
    let (id, token) = user(&server, "max@example.com").await;
    let before = stored(&server, id).await.unwrap();
    let reply = patch(
        &server,
        "/users/me",
        Some(&token),
        &json!({"is_superuser": true, "is_active": false, "is_verified": true}),
    )
    .await;
    assert_ok(&reply, user_read(id, "max@example.com", true, false, false));
    assert_eq!(stored(&server, id).await.unwrap(), before);
    assert_forbidden(&get(&server, "/superuser-route", Some(&token)).await);
    assert_forbidden(&get(&server, "/verified-route", Some(&token)).await);

    // Beside a real change: the e-mail changes, the flags still do not.
    let reply = patch(
        &server,
        "/users/me",
        Some(&token),
        &json!({"email": "max2@example.com", "is_superuser": true, "is_verified": true}),
    )
    .await;
    assert_ok(
        &reply,
        user_read(id, "max2@example.com", true, false, false),
    );
    let after = stored(&server, id).await.unwrap();
    assert!(!after.is_superuser && !after.is_verified && after.is_active);
}

#[tokio::test]
async fn patch_me_bad_bodies_are_422_and_change_nothing() {
    let server = common::spawn().await;
    let (id, token) = user(&server, "ned@example.com").await;
    let before = stored(&server, id).await.unwrap();
    let token = Some(token.as_str());

    // Wrong JSON types.
    let reply = patch(
        &server,
        "/users/me",
        token,
        &json!({"email": 42, "password": ["a", "b"]}),
    )
    .await;
    assert_status_json(
        &reply,
        422,
        json!({"detail": [
            {"type": "string_type", "loc": ["body", "email"], "msg": "Input should be a valid string"},
            {"type": "string_type", "loc": ["body", "password"], "msg": "Input should be a valid string"},
        ]}),
    );
    let reply = patch(
        &server,
        "/users/me",
        token,
        &json!({"password": NEW_PASSWORD, "is_superuser": {"x": 1}}),
    )
    .await;
    assert_status_json(
        &reply,
        422,
        json!({"detail": [
            {"type": "bool_type", "loc": ["body", "is_superuser"], "msg": "Input should be a valid boolean"},
        ]}),
    );

    // An invalid e-mail.
    let reply = patch(
        &server,
        "/users/me",
        token,
        &json!({"email": "not-an-email"}),
    )
    .await;
    assert_status_json(
        &reply,
        422,
        json!({"detail": [{
            "type": "value_error",
            "loc": ["body", "email"],
            "msg": "value is not a valid email address: An email address must have an @-sign.",
        }]}),
    );
    for email in ["", "a@b", "@example.com", "a b@example.com", "a@localhost"] {
        let reply = patch(&server, "/users/me", token, &json!({"email": email})).await;
        assert_validation_type(&reply, "value_error", json!(["body", "email"]));
    }

    // A form body: the update takes JSON only.
    let reply = send(
        &server,
        Method::PATCH,
        "/users/me",
        token,
        Some("application/x-www-form-urlencoded"),
        Some("email=form%40example.com"),
    )
    .await;
    assert_validation_type(&reply, "model_attributes_type", json!(["body"]));

    // Not a JSON object, invalid JSON, no body.
    for body in ["[]", "\"x\"", "1"] {
        let reply = send(
            &server,
            Method::PATCH,
            "/users/me",
            token,
            Some("application/json"),
            Some(body),
        )
        .await;
        assert_status_json(
            &reply,
            422,
            json!({"detail": [{
                "type": "model_attributes_type",
                "loc": ["body"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
            }]}),
        );
    }
    let reply = send(
        &server,
        Method::PATCH,
        "/users/me",
        token,
        Some("application/json"),
        Some("{\"email\": "),
    )
    .await;
    assert_validation_type(&reply, "json_invalid", json!(["body"]));
    let reply = send(&server, Method::PATCH, "/users/me", token, None, None).await;
    assert_status_json(
        &reply,
        422,
        json!({"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required"}]}),
    );

    assert_eq!(stored(&server, id).await.unwrap(), before);
    login_token(&server, "ned@example.com", PASSWORD).await;
}

// ---------------------------------------------------------------------------------
// /users/{id}: authorisation
// ---------------------------------------------------------------------------------

/// GET, PATCH (with a valid and an invalid body) and DELETE of `path`.
async fn all_methods(server: &Server, path: &str, token: Option<&str>) -> Vec<Reply> {
    vec![
        get(server, path, token).await,
        patch(server, path, token, &json!({"is_superuser": true})).await,
        patch(server, path, token, &json!({"email": 42})).await,
        delete(server, path, token).await,
    ]
}

#[tokio::test]
async fn user_by_id_without_a_valid_token_is_401() {
    let server = common::spawn().await;
    let (id, _) = user(&server, "olga@example.com").await;
    let before = stored(&server, id).await;
    for path in [
        format!("/users/{id}"),
        format!("/users/{UNKNOWN_ID}"),
        "/users/not-a-uuid".to_owned(),
    ] {
        for token in [None, Some("garbage")] {
            for reply in all_methods(&server, &path, token).await {
                assert_unauthorized_with(&reply, token);
            }
        }
    }
    assert_eq!(stored(&server, id).await, before);
}

#[tokio::test]
async fn user_by_id_is_403_for_a_non_superuser_before_any_lookup() {
    let server = common::spawn().await;
    let (own, token) = user(&server, "pam@example.com").await;
    let (other, _) = user(&server, "quin@example.com").await;
    // Verified does not help.
    server.set_flags("pam@example.com", true, true, false).await;
    let before = stored(&server, other).await;
    for path in [
        format!("/users/{other}"),
        format!("/users/{own}"),
        format!("/users/{UNKNOWN_ID}"),
        "/users/not-a-uuid".to_owned(),
    ] {
        for reply in all_methods(&server, &path, Some(&token)).await {
            // The same answer whatever the id: nobody but an admin learns it exists.
            assert_forbidden(&reply);
        }
    }
    assert_eq!(stored(&server, other).await, before);
    assert!(!stored(&server, own).await.unwrap().is_superuser);
}

#[tokio::test]
async fn user_by_id_for_an_inactive_superuser_is_401() {
    let server = common::spawn().await;
    let (admin_id, admin_token) = admin(&server).await;
    let (target, _) = user(&server, "rae@example.com").await;
    server
        .set_flags("admin@example.com", false, true, true)
        .await;
    for path in [
        format!("/users/{target}"),
        format!("/users/{admin_id}"),
        format!("/users/{UNKNOWN_ID}"),
        "/users/not-a-uuid".to_owned(),
    ] {
        for reply in all_methods(&server, &path, Some(&admin_token)).await {
            assert_token_refused(&reply);
        }
    }
    assert!(stored(&server, target).await.is_some());
}

// ---------------------------------------------------------------------------------
// /users/{id}: an active superuser
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn superuser_gets_a_user_by_id() {
    let server = common::spawn().await;
    let (admin_id, admin_token) = admin(&server).await;
    let (id, _) = user(&server, "sue@example.com").await;
    let admin = Some(admin_token.as_str());
    assert_ok(
        &get(&server, &format!("/users/{id}"), admin).await,
        user_read(id, "sue@example.com", true, false, false),
    );
    assert_ok(
        &get(&server, &format!("/users/{admin_id}"), admin).await,
        user_read(admin_id, "admin@example.com", true, true, true),
    );
    // The id in another textual form of the same UUID.
    assert_ok(
        &get(
            &server,
            &format!("/users/{}", id.to_string().to_uppercase()),
            admin,
        )
        .await,
        user_read(id, "sue@example.com", true, false, false),
    );
    // Unknown and malformed ids: 404, not 422.
    for path in [
        format!("/users/{UNKNOWN_ID}"),
        "/users/not-a-uuid".to_owned(),
        "/users/12345".to_owned(),
    ] {
        assert_not_found(&get(&server, &path, admin).await);
    }
}

#[tokio::test]
async fn superuser_patch_sets_flags() {
    let server = common::spawn().await;
    let (_, admin_token) = admin(&server).await;
    let admin = Some(admin_token.as_str());
    let (id, token) = user(&server, "tom@example.com").await;
    let path = format!("/users/{id}");

    let reply = patch(
        &server,
        &path,
        admin,
        &json!({"is_superuser": true, "is_verified": true}),
    )
    .await;
    assert_ok(&reply, user_read(id, "tom@example.com", true, true, true));
    assert_eq!(
        get(&server, "/superuser-route", Some(&token)).await.status,
        200
    );
    assert_eq!(
        get(&server, "/verified-route", Some(&token)).await.status,
        200
    );

    // Deactivated: the user's token stops working at once, and login is refused.
    let reply = patch(&server, &path, admin, &json!({"is_active": false})).await;
    assert_ok(&reply, user_read(id, "tom@example.com", false, true, true));
    assert_token_refused(&get(&server, "/users/me", Some(&token)).await);
    assert_login_refused(&server, "tom@example.com", PASSWORD).await;

    // Each flag can be set back; unspecified fields stay.
    let reply = patch(
        &server,
        &path,
        admin,
        &json!({"is_active": true, "is_superuser": false}),
    )
    .await;
    assert_ok(&reply, user_read(id, "tom@example.com", true, false, true));
    let reply = patch(&server, &path, admin, &json!({"is_verified": false})).await;
    assert_ok(&reply, user_read(id, "tom@example.com", true, false, false));
    // The deactivation ended the old token for good (ASVS 7.4.2); a new login works.
    assert_token_refused(&get(&server, "/users/me", Some(&token)).await);
    let token = login_token(&server, "tom@example.com", PASSWORD).await;
    assert_ok(
        &get(&server, "/users/me", Some(&token)).await,
        user_read(id, "tom@example.com", true, false, false),
    );
    let record = stored(&server, id).await.unwrap();
    assert!(record.is_active && !record.is_superuser && !record.is_verified);
}

#[tokio::test]
async fn superuser_patch_changes_email_and_password() {
    let server = common::spawn().await;
    let (_, admin_token) = admin(&server).await;
    let admin = Some(admin_token.as_str());
    let (id, _) = user(&server, "uma@example.com").await;
    user(&server, "vera@example.com").await;
    server.set_flags("uma@example.com", true, true, false).await;
    let path = format!("/users/{id}");
    let before = stored(&server, id).await.unwrap();

    // Taken (any case) and refused passwords: 400, nothing written.
    for email in ["vera@example.com", "VERA@example.com", "admin@EXAMPLE.com"] {
        let reply = patch(&server, &path, admin, &json!({"email": email})).await;
        assert_status_json(&reply, 400, email_taken());
    }
    let reply = patch(&server, &path, admin, &json!({"password": "short"})).await;
    assert_status_json(&reply, 400, invalid_password(TOO_SHORT));
    let reply = patch(
        &server,
        &path,
        admin,
        &json!({"password": "xx-uma@example.com-xx"}),
    )
    .await;
    assert_status_json(
        &reply,
        400,
        invalid_password("Password should not contain e-mail"),
    );
    // Bad bodies: 422.
    let reply = patch(&server, &path, admin, &json!({"email": "nope"})).await;
    assert_validation_type(&reply, "value_error", json!(["body", "email"]));
    let reply = patch(&server, &path, admin, &json!({"is_active": [true]})).await;
    assert_validation_type(&reply, "bool_type", json!(["body", "is_active"]));
    assert_eq!(stored(&server, id).await.unwrap(), before);

    // Both at once: the e-mail changes and is no longer verified.
    let reply = patch(
        &server,
        &path,
        admin,
        &json!({"email": "uma.new@example.com", "password": NEW_PASSWORD}),
    )
    .await;
    assert_ok(
        &reply,
        user_read(id, "uma.new@example.com", true, false, false),
    );
    assert_login_refused(&server, "uma@example.com", PASSWORD).await;
    assert_login_refused(&server, "uma.new@example.com", PASSWORD).await;
    login_token(&server, "uma.new@example.com", NEW_PASSWORD).await;

    // A new e-mail with `is_verified: true` in the same body: the flag wins (FastAPI
    // Users applies the fields in order, the flag after the e-mail).
    let reply = patch(
        &server,
        &path,
        admin,
        &json!({"email": "uma.third@example.com", "is_verified": true}),
    )
    .await;
    assert_ok(
        &reply,
        user_read(id, "uma.third@example.com", true, false, true),
    );
}

#[tokio::test]
async fn superuser_patch_of_an_unknown_or_malformed_id_is_404_before_the_body() {
    let server = common::spawn().await;
    let (_, admin_token) = admin(&server).await;
    let admin = Some(admin_token.as_str());
    for path in [
        format!("/users/{UNKNOWN_ID}"),
        "/users/not-a-uuid".to_owned(),
    ] {
        assert_not_found(&patch(&server, &path, admin, &json!({"is_active": false})).await);
        // FastAPI resolves the user dependency before it validates the body.
        assert_not_found(&patch(&server, &path, admin, &json!({"email": 42})).await);
        assert_not_found(&delete(&server, &path, admin).await);
    }
}

#[tokio::test]
async fn superuser_deletes_a_user() {
    let server = common::spawn().await;
    let (_, admin_token) = admin(&server).await;
    let admin = Some(admin_token.as_str());
    let (id, token) = user(&server, "walt@example.com").await;
    let (other, other_token) = user(&server, "xavi@example.com").await;
    let path = format!("/users/{id}");

    let reply = delete(&server, &path, admin).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(reply.text, "");
    assert_eq!(reply.header("content-type"), None);

    assert_not_found(&get(&server, &path, admin).await);
    assert_not_found(&delete(&server, &path, admin).await);
    assert_not_found(&patch(&server, &path, admin, &json!({"is_active": true})).await);
    assert_eq!(stored(&server, id).await, None);
    // The deleted user's token no longer authenticates, and the login is gone.
    assert_token_refused(&get(&server, "/users/me", Some(&token)).await);
    assert_token_refused(&get(&server, "/authenticated-route", Some(&token)).await);
    assert_login_refused(&server, "walt@example.com", PASSWORD).await;
    // Others are untouched.
    assert_ok(
        &get(&server, "/users/me", Some(&other_token)).await,
        user_read(other, "xavi@example.com", true, false, false),
    );
    // The e-mail can be registered again, as a new user.
    let (status, body) = server.register("walt@example.com", PASSWORD).await;
    assert_eq!(status, 201, "{body}");
    assert_ne!(body["id"], json!(id.to_string()));
}

#[tokio::test]
async fn a_superuser_can_delete_themself() {
    let server = common::spawn().await;
    let (admin_id, admin_token) = admin(&server).await;
    let reply = delete(&server, &format!("/users/{admin_id}"), Some(&admin_token)).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(reply.text, "");
    assert_token_refused(&get(&server, &format!("/users/{admin_id}"), Some(&admin_token)).await);
}

// ---------------------------------------------------------------------------------
// requires_verification
// ---------------------------------------------------------------------------------

async fn spawn_requiring_verification() -> Server {
    let warden: Warden = Warden::builder()
        .store(MemoryStore::new())
        .backend::<common::Jwt>()
        .unwrap()
        .requires_verification(true)
        .build()
        .unwrap();
    assert!(warden.requires_verification());
    common::spawn_with(warden).await
}

/// An access token minted directly (login refuses unverified users).
fn mint(server: &Server, id: Uuid) -> String {
    server
        .warden
        .strategy("jwt")
        .unwrap()
        .issue(&id.to_string())
        .unwrap()
}

#[tokio::test]
async fn requires_verification_refuses_an_unverified_login() {
    let server = spawn_requiring_verification().await;
    let (status, body) = server.register("yves@example.com", PASSWORD).await;
    assert_eq!(status, 201, "{body}");

    let reply = login(&server, "yves@example.com", PASSWORD).await;
    assert_status_json(&reply, 400, json!({"detail": "LOGIN_USER_NOT_VERIFIED"}));
    // A wrong password or an unknown user is still LOGIN_BAD_CREDENTIALS: the
    // verification check does not reveal that an account exists.
    assert_login_refused(&server, "yves@example.com", "wrong password!").await;
    assert_login_refused(&server, "nobody@example.com", PASSWORD).await;
    // Inactive and unverified: bad credentials, the active check comes first.
    server
        .set_flags("yves@example.com", false, false, false)
        .await;
    assert_login_refused(&server, "yves@example.com", PASSWORD).await;

    server
        .set_flags("yves@example.com", true, true, false)
        .await;
    login_token(&server, "yves@example.com", PASSWORD).await;
}

#[tokio::test]
async fn requires_verification_forbids_the_users_routes_to_unverified_users() {
    let server = spawn_requiring_verification().await;
    let (status, body) = server.register("zed@example.com", PASSWORD).await;
    assert_eq!(status, 201, "{body}");
    let id = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    let token = mint(&server, id);
    let before = stored(&server, id).await.unwrap();

    assert_forbidden(&get(&server, "/users/me", Some(&token)).await);
    assert_forbidden(
        &patch(
            &server,
            "/users/me",
            Some(&token),
            &json!({"email": "zed2@example.com"}),
        )
        .await,
    );
    for path in ["/auth/jwt/logout", "/auth/jwt/refresh"] {
        assert_forbidden(&send(&server, Method::POST, path, Some(&token), None, None).await);
    }
    assert_eq!(stored(&server, id).await.unwrap(), before);
    // Routes the application guards itself are not affected (FastAPI Users'
    // `requires_verification` is a router option).
    assert_eq!(
        get(&server, "/authenticated-route", Some(&token))
            .await
            .status,
        200
    );
    // No token is still 401.
    assert_unauthorized(&get(&server, "/users/me", None).await);

    server.set_flags("zed@example.com", true, true, false).await;
    assert_ok(
        &get(&server, "/users/me", Some(&token)).await,
        user_read(id, "zed@example.com", true, false, true),
    );
    // Changing the e-mail unverifies the user: the next request is forbidden again.
    let reply = patch(
        &server,
        "/users/me",
        Some(&token),
        &json!({"email": "zed2@example.com"}),
    )
    .await;
    assert_ok(
        &reply,
        user_read(id, "zed2@example.com", true, false, false),
    );
    assert_forbidden(&get(&server, "/users/me", Some(&token)).await);
}

#[tokio::test]
async fn requires_verification_applies_to_superusers_too() {
    let server = spawn_requiring_verification().await;
    let (admin_id, _) = admin(&server).await;
    let (status, body) = server.register("amy@example.com", PASSWORD).await;
    assert_eq!(status, 201, "{body}");
    let id = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    let admin_token = mint(&server, admin_id);
    let path = format!("/users/{id}");

    // A verified superuser: allowed.
    assert_ok(
        &get(&server, &path, Some(&admin_token)).await,
        user_read(id, "amy@example.com", true, false, false),
    );
    // An unverified superuser: 403, before any lookup.
    server
        .set_flags("admin@example.com", true, false, true)
        .await;
    for path in [path.clone(), format!("/users/{UNKNOWN_ID}")] {
        assert_forbidden(&get(&server, &path, Some(&admin_token)).await);
        assert_forbidden(&delete(&server, &path, Some(&admin_token)).await);
    }
    assert!(stored(&server, id).await.is_some());
}
