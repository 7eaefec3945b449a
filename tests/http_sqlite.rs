//! The core HTTP flow over the SQLite store (a real database file): registration,
//! login, the current user, refresh, logout; concurrent registrations settled by the
//! database's unique index; and users surviving a restart.

mod common;

use std::future::IntoFuture;
use std::sync::Arc;

use serde_json::{Value, json};
use tempfile::TempDir;
use uuid::Uuid;
use warden::{SqliteStore, Warden};

use common::Server;

const PASSWORD: &str = "correct horse battery";

/// A fresh database file in its own directory (kept alive by the returned `TempDir`).
fn database() -> (TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/w.db", dir.path().display());
    (dir, url)
}

fn warden_over(store: SqliteStore) -> Warden {
    Warden::<warden::User>::builder()
        .store(store)
        .backend::<common::Jwt>()
        .unwrap()
        .build()
        .unwrap()
}

async fn spawn_sqlite(url: &str) -> Server {
    common::spawn_with(warden_over(SqliteStore::open(url).await.unwrap())).await
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
    Uuid::parse_str(id.as_str().unwrap()).unwrap_or_else(|e| panic!("id not a UUID ({e}): {body}"))
}

/// `POST path` with an optional bearer token: (status, cache-control, body text).
async fn post_bearer(
    server: &Server,
    path: &str,
    token: Option<&str>,
) -> (u16, Option<String>, String) {
    let mut request = server.client.post(server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, cache, response.text().await.unwrap())
}

/// Asserts a login body `{"access_token", "token_type": "bearer"}`; returns the token.
#[track_caller]
fn access_token(body: &Value) -> String {
    let mut rest = body.clone();
    let token = rest
        .as_object_mut()
        .unwrap_or_else(|| panic!("not an object: {body}"))
        .remove("access_token")
        .unwrap_or_else(|| panic!("no access_token: {body}"));
    assert_eq!(rest, json!({"token_type": "bearer"}));
    token.as_str().unwrap().to_owned()
}

#[tokio::test]
async fn core_flow_over_sqlite() {
    let (_dir, url) = database();
    let server = spawn_sqlite(&url).await;

    // Register: 201 UserRead with the domain lower-cased, flags ignored.
    let response = server
        .client
        .post(server.url("/auth/register"))
        .json(&json!({
            "email": "Ann.Lee@Example.COM",
            "password": PASSWORD,
            "is_superuser": true,
            "is_verified": true,
            "is_active": false,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let registered: Value = response.json().await.unwrap();
    let id = assert_user_read(&registered, "Ann.Lee@example.com", true, false, false);

    // Duplicate in another case, and the password rule first.
    let (status, body) = server.register("ann.lee@EXAMPLE.com", PASSWORD).await;
    assert_eq!(status, 400);
    assert_eq!(body, json!({"detail": "REGISTER_USER_ALREADY_EXISTS"}));
    let (status, body) = server.register("ANN.LEE@example.com", "short").await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"detail": {
            "code": "REGISTER_INVALID_PASSWORD",
            "reason": "Password should be at least 8 characters",
        }})
    );

    // Login: form and JSON, case-insensitive username; bad credentials.
    let (status, body) = server.login("ann.lee@example.com", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let token = access_token(&body);
    let response = server
        .client
        .post(server.url("/auth/jwt/login"))
        .json(&json!({"username": "ANN.LEE@EXAMPLE.COM", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let json_token = access_token(&response.json().await.unwrap());
    assert_ne!(json_token, token);
    for (username, password) in [
        ("ann.lee@example.com", "wrong-password"),
        ("ann.lee@example.com", "correct horse battery "),
        ("nobody@example.com", PASSWORD),
    ] {
        let (status, body) = server.login(username, password).await;
        assert_eq!(status, 400, "{username}/{password}");
        assert_eq!(body, json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
    }

    // The current user.
    for token in [&token, &json_token] {
        let (status, me) = server.get("/users/me", Some(token)).await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(me, registered);
    }
    let (status, body) = server.get("/users/me", None).await;
    assert_eq!(status, 401);
    assert_eq!(body, json!({"detail": "Unauthorized"}));

    // Flags written to the database take effect at once.
    server
        .set_flags("ann.lee@example.com", true, true, true)
        .await;
    let (status, me) = server.get("/users/me", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(
        assert_user_read(&me, "Ann.Lee@example.com", true, true, true),
        id
    );
    let (status, _) = server.get("/superuser-route", Some(&token)).await;
    assert_eq!(status, 200);

    // Refresh: a new, different token that works.
    let (status, cache, text) = post_bearer(&server, "/auth/jwt/refresh", Some(&token)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(cache.as_deref(), Some("no-store"));
    let fresh = access_token(&serde_json::from_str(&text).unwrap());
    assert_ne!(fresh, token);
    let (status, me) = server.get("/users/me", Some(&fresh)).await;
    assert_eq!(status, 200);
    assert_eq!(me["id"], registered["id"]);
    let (status, _, text) = post_bearer(&server, "/auth/jwt/refresh", None).await;
    assert_eq!(status, 401);
    assert_eq!(text, r#"{"detail":"Unauthorized"}"#);

    // Logout: 204, empty; 401 without a token.
    let (status, _, text) = post_bearer(&server, "/auth/jwt/logout", Some(&fresh)).await;
    assert_eq!(status, 204);
    assert_eq!(text, "");
    let (status, _, text) = post_bearer(&server, "/auth/jwt/logout", None).await;
    assert_eq!(status, 401);
    assert_eq!(text, r#"{"detail":"Unauthorized"}"#);

    // Deactivated: 401 on /users/me, refresh and logout, and login is refused.
    server
        .set_flags("ann.lee@example.com", false, true, true)
        .await;
    let (status, _) = server.get("/users/me", Some(&token)).await;
    assert_eq!(status, 401);
    for path in ["/auth/jwt/refresh", "/auth/jwt/logout"] {
        let (status, _, _) = post_bearer(&server, path, Some(&token)).await;
        assert_eq!(status, 401, "{path}");
    }
    let (status, body) = server.login("ann.lee@example.com", PASSWORD).await;
    assert_eq!(status, 400);
    assert_eq!(body, json!({"detail": "LOGIN_BAD_CREDENTIALS"}));

    // Deleted: the token names no user.
    server.warden.manager().store().delete(&id).await.unwrap();
    assert!(
        server
            .warden
            .manager()
            .store()
            .get_by_email("ann.lee@example.com")
            .await
            .unwrap()
            .is_none()
    );
    let (status, body) = server.get("/users/me", Some(&json_token)).await;
    assert_eq!(status, 401);
    assert_eq!(body, json!({"detail": "Unauthorized"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_registrations_over_sqlite() {
    let (_dir, url) = database();
    let server = spawn_sqlite(&url).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(50));
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let client = server.client.clone();
            let url = server.url("/auth/register");
            let barrier = Arc::clone(&barrier);
            // Half the requests spell the address in another case: the database's
            // lower(email) index must settle those races too.
            let email = if i % 2 == 0 {
                "race@example.com"
            } else {
                "RACE@example.com"
            };
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
    let replies: Vec<(u16, Value)> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();

    let created: Vec<&Value> = replies
        .iter()
        .filter(|(status, _)| *status == 201)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(created.len(), 1, "{replies:?}");
    let refused = replies
        .iter()
        .filter(|reply| **reply == (400, json!({"detail": "REGISTER_USER_ALREADY_EXISTS"})))
        .count();
    assert_eq!(refused, 49, "{replies:?}");

    let winner = created[0];
    let email = winner["email"].as_str().unwrap();
    assert!(
        email == "race@example.com" || email == "RACE@example.com",
        "{winner}"
    );
    let id = assert_user_read(winner, email, true, false, false);
    let stored = server
        .warden
        .manager()
        .store()
        .get_by_email("race@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.id, id);
    assert_eq!(stored.email, email);

    let (status, body) = server.login("race@example.com", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let (status, me) = server.get("/users/me", Some(&access_token(&body))).await;
    assert_eq!(status, 200);
    assert_eq!(me, *winner);
}

#[tokio::test]
async fn users_survive_a_restart() {
    let (dir, url) = database();

    // First life: a server that can be stopped, over a store whose pool we close.
    let store = SqliteStore::open(&url).await.unwrap();
    let warden = warden_over(store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(
        axum::serve(listener, common::app(&warden))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    let first = Server {
        base,
        client: reqwest::Client::new(),
        warden,
    };
    let (status, registered) = first.register("Persist@Example.com", PASSWORD).await;
    assert_eq!(status, 201, "{registered}");
    first
        .set_flags("persist@example.com", true, true, false)
        .await;
    let (status, body) = first.login("persist@example.com", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let old_token = access_token(&body);

    drop(first);
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
    store.pool().close().await;
    drop(store);
    assert!(dir.path().join("w.db").is_file());

    // Second life: a new store on the same file.
    let server = spawn_sqlite(&url).await;
    let (status, body) = server.login("PERSIST@example.com", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let token = access_token(&body);
    let (status, me) = server.get("/users/me", Some(&token)).await;
    assert_eq!(status, 200, "{me}");
    let id = assert_user_read(&me, "Persist@example.com", true, false, true);
    assert_eq!(id.to_string(), registered["id"].as_str().unwrap());
    // A token from before the restart still names the same user (same secret).
    let (status, me_again) = server.get("/users/me", Some(&old_token)).await;
    assert_eq!(status, 200);
    assert_eq!(me_again, me);
    // The wrong password is still wrong, and the e-mail is still taken.
    let (status, _) = server.login("persist@example.com", "wrong-password").await;
    assert_eq!(status, 400);
    let (status, body) = server.register("persist@EXAMPLE.com", PASSWORD).await;
    assert_eq!(status, 400);
    assert_eq!(body, json!({"detail": "REGISTER_USER_ALREADY_EXISTS"}));
}
