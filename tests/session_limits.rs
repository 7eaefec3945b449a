//! Bounds on what logins leave behind (issue 18, item 9): a per-user cap on live
//! sessions, the oldest ended first (and its tokens with it), and a purge of
//! expired sessions, refresh tokens, FastAPI Users' `accesstoken` rows and
//! two-factor sign-in challenges.
//!
//! Each flow runs on the memory store, a SQLite file and PostgreSQL (needs
//! `WARDEN_TEST_POSTGRES_URL`, else "skipped"), on a manual clock.

#[macro_use]
mod common;

use common::Jwt;
use common::served::{App, Store};
use reqwest::Method;
use warden::auth_backend;

const PASSWORD: &str = "correct-horse";
/// The cap the tests configure.
const CAP: usize = 3;

/// FastAPI Users' database strategy, with refresh tokens; a login lasts a day.
#[auth_backend(
    name = "db",
    lifetime = 3600,
    strategy = "database",
    refresh = 86400,
    max_session_age = 86400
)]
struct Opaque;

/// Both backends, the cap on.
async fn app_over(store: Store) -> App {
    App::over(store, |builder| {
        builder
            .backend::<Jwt>()
            .unwrap()
            .backend::<Opaque>()
            .unwrap()
            .max_sessions_per_user(CAP)
    })
    .await
}

async fn memory() -> App {
    app_over(Store::memory()).await
}

async fn sqlite(dir: &tempfile::TempDir) -> App {
    app_over(Store::sqlite(dir, "limits.db").await).await
}

async fn postgres(test: &str) -> Option<App> {
    Some(app_over(Store::postgres(test).await?).await)
}

async fn status(app: &App, token: &str) -> u16 {
    app.http.me(token).await.status
}

/// Item: logins were uncapped, so a script logging in in a loop grew the session
/// table without bound.
async fn cap_flow(app: &App) {
    app.http.register("ann@example.com", PASSWORD).await;
    app.http.register("bob@example.com", PASSWORD).await;
    let bob = app.http.login("jwt", "bob@example.com", PASSWORD).await;
    let mut tokens = Vec::new();
    for backend in ["jwt", "db", "jwt", "db", "jwt"] {
        tokens.push(app.http.login(backend, "ann@example.com", PASSWORD).await);
        app.clock.advance(1);
    }
    // The two oldest logins ended; the three newest, and Bob's, live on.
    for (i, token) in tokens.iter().enumerate() {
        let expected = if i < tokens.len() - CAP { 401 } else { 200 };
        assert_eq!(status(app, token).await, expected, "login {i}");
    }
    assert_eq!(status(app, &bob).await, 200);
    let listed = app
        .http
        .send(Method::GET, "/users/me/sessions", Some(&tokens[4]), None)
        .await;
    assert_eq!(
        listed.json().as_array().unwrap().len(),
        CAP,
        "{}",
        listed.text
    );

    // Refreshes continue their login: they never count as new ones.
    let newest = tokens.last().unwrap();
    for _ in 0..5 {
        let reply = app
            .http
            .send(Method::POST, "/auth/jwt/refresh", Some(newest), None)
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    for token in &tokens[tokens.len() - CAP..] {
        assert_eq!(status(app, token).await, 200);
    }
}

on_every_store!(logins_past_the_cap_end_the_oldest_sessions, cap_flow);

/// Item: `accesstoken` rows were never purged, nor expired sessions but on a login.
async fn purge_flow(app: &App) {
    let ann = app.http.register("ann@example.com", PASSWORD).await;
    let reply = app
        .http
        .client
        .post(format!("{}/auth/db/login", app.http.base))
        .form(&[("username", "ann@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = reply.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();
    let migrated = "fastapi-users-token-of-forty-three-chars-xx";
    if let Some(db) = &app.db {
        let insert = format!(
            "INSERT INTO accesstoken (token, created_at, user_id) \
             VALUES ('{migrated}', CURRENT_TIMESTAMP, '{ann}')"
        );
        assert_eq!(db.execute(&insert).await, 1);
    }
    let count = async |table: &str| {
        let db = app.db.as_ref().unwrap();
        db.integer(&format!("SELECT COUNT(*) FROM {table}")).await
    };
    if app.db.is_some() {
        assert_eq!(count("accesstoken").await, Some(2));
        assert_eq!(count("warden_access_token_session").await, Some(1));
        assert_eq!(count("warden_refresh_token").await, Some(1));
    }

    // Two-factor sign-in challenges: one of five minutes, one of three days.
    let two_factor = app.warden.manager().store().two_factor().unwrap();
    let challenge = |token: &str, lifetime: i64| warden_runtime::store::MfaChallenge {
        token_hash: token.to_owned(),
        user_id: ann.clone(),
        backend: "jwt".to_owned(),
        amr: vec!["pwd".to_owned()],
        binding: None,
        expires_at: app.clock.now() + lifetime,
        tries: 0,
    };
    two_factor
        .open_challenge(&challenge("short", 300))
        .await
        .unwrap();
    two_factor
        .open_challenge(&challenge("long", 3 * 86_400))
        .await
        .unwrap();

    // Within the tokens' lifetime nothing goes but the expired challenge.
    app.clock.advance(3000);
    app.warden.purge_expired().await.unwrap();
    assert_eq!(status(app, &token).await, 200);
    if app.db.is_some() {
        assert_eq!(count("accesstoken").await, Some(2));
        assert_eq!(count("warden_mfa_challenge").await, Some(1));
    }
    assert!(!two_factor.take_challenge("short").await.unwrap());
    assert!(
        two_factor
            .try_challenge("long", app.clock.now(), 5)
            .await
            .unwrap()
            .is_some()
    );

    // Past it, the rows go; past the session's end, the session and its refresh
    // token too.
    app.clock.advance(86_400);
    app.warden.purge_expired().await.unwrap();
    assert_eq!(status(app, &token).await, 401);
    if app.db.is_some() {
        for table in [
            "accesstoken",
            "warden_access_token_session",
            "warden_session",
            "warden_refresh_token",
        ] {
            assert_eq!(count(table).await, Some(0), "{table}");
        }
    }
    let sessions = app.warden.manager().sessions().store();
    assert!(sessions.list(&ann, i64::MIN).await.unwrap().is_empty());
}

on_every_store!(expired_sessions_and_access_tokens_are_purged, purge_flow);
