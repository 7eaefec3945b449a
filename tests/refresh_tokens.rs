//! Refresh tokens over real HTTP (RFC 6749 §6, RFC 9700 §4.14.2): a backend with
//! `refresh` answers a refresh token at login; each is single use, rotated on every
//! refresh within the same session, and a reused one ends its whole family; the
//! session's absolute end caps every token; only hashes are stored. Also FastAPI
//! Users' refresh recipe (a valid access token buys a fresh one of the same login).
//!
//! Each flow runs on a SQLite file and on PostgreSQL (needs
//! `WARDEN_TEST_POSTGRES_URL`, else "skipped").

#[macro_use]
mod common;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::served::Store;
use common::{Db, Http, Jwt, Reply, SECRET, claims, now};
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use warden::{User, UserStore, Warden, auth_backend};

const PASSWORD: &str = "correct-horse";

/// Bearer tokens of 15 minutes with refresh tokens; a login lasts at most 7 days.
/// (`refresh = 1209600`, 14 days, beside `max_session_age = 604800` does not
/// compile: the macro refuses refresh tokens that outlive the session.)
#[auth_backend(
    name = "rt",
    lifetime = 900,
    secret = "refresh-test-secret-of-at-least-32-bytes!",
    refresh = 604800,
    max_session_age = 604800
)]
struct Rt;

/// FastAPI Users' database strategy (opaque tokens in `accesstoken`), with refresh
/// tokens.
#[auth_backend(
    name = "odb",
    lifetime = 900,
    strategy = "database",
    refresh = 604800,
    max_session_age = 604800
)]
struct OpaqueRt;

/// The database strategy as FastAPI Users has it: access tokens only.
#[auth_backend(name = "db", lifetime = 900, strategy = "database")]
struct Opaque;

struct App {
    http: Http,
    warden: Warden,
    db: Db,
}

async fn app_over(store: Arc<dyn UserStore<User>>, db: Db) -> App {
    let warden: Warden = Warden::builder()
        .shared_store(store)
        .backend::<Rt>()
        .unwrap()
        .backend::<Jwt>()
        .unwrap()
        .backend::<OpaqueRt>()
        .unwrap()
        .backend::<Opaque>()
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(common::serve(common::app(&warden)).await);
    App { http, warden, db }
}

async fn sqlite(dir: &tempfile::TempDir) -> App {
    let Store { store, db } = Store::sqlite(dir, "refresh.db").await;
    app_over(store, db.unwrap()).await
}

async fn postgres(test: &str) -> Option<App> {
    let Store { store, db } = Store::postgres(test).await?;
    Some(app_over(store, db.unwrap()).await)
}

/// What the store keeps of a refresh token: base64url(SHA-256(token)).
fn hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

async fn register(app: &App, email: &str) -> String {
    let body = json!({"email": email, "password": PASSWORD});
    let reply = app
        .http
        .send(Method::POST, "/auth/register", None, Some(&body))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json()["id"].as_str().unwrap().to_owned()
}

async fn post_form(app: &App, path: &str, form: &[(&str, &str)]) -> Reply {
    let request = app.http.client.post(format!("{}{path}", app.http.base));
    Reply::read(request.form(form).send().await.unwrap()).await
}

async fn login(app: &App, backend: &str, email: &str) -> Reply {
    let form = [("username", email), ("password", PASSWORD)];
    post_form(app, &format!("/auth/{backend}/login"), &form).await
}

/// RFC 6749 §6's request: the form with `grant_type=refresh_token`.
async fn refresh(app: &App, token: &str) -> Reply {
    let form = [("grant_type", "refresh_token"), ("refresh_token", token)];
    post_form(app, "/auth/rt/refresh", &form).await
}

/// The same as JSON.
async fn refresh_json(app: &App, token: &str) -> Reply {
    let body = json!({"refresh_token": token});
    app.http
        .send(Method::POST, "/auth/rt/refresh", None, Some(&body))
        .await
}

/// A 200 with a new access and refresh token, not to be cached; the pair.
fn tokens(reply: &Reply) -> (String, String) {
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
    let body = reply.json();
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let expected = json!({"access_token": access, "token_type": "bearer",
                          "refresh_token": refresh, "expires_in": body["expires_in"]});
    assert_eq!(body, expected);
    let expires_in = body["expires_in"].as_u64().unwrap();
    assert!((1..=900).contains(&expires_in), "{expires_in}");
    (access, refresh)
}

fn assert_oauth_error(reply: &Reply, code: &str) {
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(reply.json(), json!({"error": code}));
}

async fn me(app: &App, token: &str) -> u16 {
    let reply = app
        .http
        .send(Method::GET, "/users/me", Some(token), None)
        .await;
    reply.status
}

async fn rotation_flow(app: &App) {
    let ann = register(app, "ann@example.com").await;
    let reply = login(app, "rt", "ann@example.com").await;
    let (access, first) = tokens(&reply);
    assert_eq!(reply.json()["expires_in"], 900);
    let login_claims = claims(&access);
    assert_eq!(login_claims["sub"], ann.as_str());
    assert_eq!(login_claims["aud"], json!(["fastapi-users:auth"]));
    for claim in ["jti", "sid"] {
        assert!(login_claims[claim].is_string(), "{login_claims}");
    }
    let iat = login_claims["iat"].as_i64().unwrap();
    assert_eq!(login_claims["exp"].as_i64(), Some(iat + 900));
    assert_eq!(login_claims["auth_time"].as_i64(), Some(iat));
    assert_eq!(me(app, &access).await, 200);

    // A backend without refresh tokens answers FastAPI Users' body only.
    let reply = login(app, "jwt", "ann@example.com").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let token = reply.json()["access_token"].clone();
    assert_eq!(
        reply.json(),
        json!({"access_token": token, "token_type": "bearer"})
    );

    // Rotation: a new pair of the same session, by form then by JSON.
    let (second_access, second) = tokens(&refresh(app, &first).await);
    let (third_access, third) = tokens(&refresh_json(app, &second).await);
    for (token, refresh) in [(&second_access, &second), (&third_access, &third)] {
        let rotated = claims(token);
        assert_eq!(rotated["sid"], login_claims["sid"]);
        assert_eq!(rotated["auth_time"], login_claims["auth_time"]);
        assert_ne!(rotated["jti"], login_claims["jti"]);
        assert_ne!(refresh, &first);
        assert_eq!(me(app, token).await, 200);
    }
    assert_ne!(second, third);

    // Only hashes are stored.
    let hashes = app
        .db
        .strings("SELECT hash FROM warden_refresh_token")
        .await;
    for token in [&first, &second, &third] {
        assert!(!hashes.contains(token), "a refresh token stored as is");
        assert!(hashes.contains(&hash(token)), "{hashes:?}");
    }
    let of_third = format!(
        "SELECT session_id FROM warden_refresh_token WHERE hash = '{}'",
        hash(&third)
    );
    assert_eq!(
        app.db.strings(&of_third).await,
        [login_claims["sid"].as_str().unwrap()]
    );

    // Another login of Ann's (by JSON), untouched by what follows.
    let body = json!({"username": "ann@example.com", "password": PASSWORD});
    let reply = app
        .http
        .send(Method::POST, "/auth/rt/login", None, Some(&body))
        .await;
    let (other_access, other) = tokens(&reply);

    // Reuse of a rotated token: refused, and its whole family ends.
    assert_oauth_error(&refresh(app, &first).await, "invalid_grant");
    for token in [&access, &second_access, &third_access] {
        assert_eq!(me(app, token).await, 401);
    }
    assert_oauth_error(&refresh(app, &third).await, "invalid_grant");
    assert_eq!(me(app, &other_access).await, 200);
    tokens(&refresh(app, &other).await);
}

on_both_stores!(rotation, rotation_flow);

async fn concurrency_flow(app: &App) {
    register(app, "ann@example.com").await;
    let (access, token) = tokens(&login(app, "rt", "ann@example.com").await);
    let replies = join_all((0..10).map(|_| refresh(app, &token))).await;
    let statuses: Vec<u16> = replies.iter().map(|reply| reply.status).collect();
    let winners: Vec<&Reply> = replies.iter().filter(|reply| reply.status == 200).collect();
    assert_eq!(winners.len(), 1, "{statuses:?}");
    for reply in replies.iter().filter(|reply| reply.status != 200) {
        assert_oauth_error(reply, "invalid_grant");
    }
    // The others were reuses: the family is over, the winner's new pair included.
    let (new_access, new_refresh) = tokens(winners[0]);
    assert_eq!(me(app, &new_access).await, 401);
    assert_eq!(me(app, &access).await, 401);
    assert_oauth_error(&refresh(app, &new_refresh).await, "invalid_grant");
}

on_both_stores!(concurrent_refreshes, concurrency_flow);

async fn refusals_flow(app: &App) {
    register(app, "ann@example.com").await;
    let (_, token) = tokens(&login(app, "rt", "ann@example.com").await);
    assert_oauth_error(&refresh(app, "not-a-refresh-token").await, "invalid_grant");
    assert_oauth_error(&refresh_json(app, "bm90LWEtdG9rZW4").await, "invalid_grant");
    let form = [
        ("grant_type", "password"),
        ("refresh_token", token.as_str()),
    ];
    let reply = post_form(app, "/auth/rt/refresh", &form).await;
    assert_oauth_error(&reply, "unsupported_grant_type");
    // A backend without refresh tokens.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", token.as_str()),
    ];
    let reply = post_form(app, "/auth/jwt/refresh", &form).await;
    assert_oauth_error(&reply, "unsupported_grant_type");
    // Neither refusal used the token up.
    let (access, token) = tokens(&refresh(app, &token).await);

    // A logout ends the session: its refresh token with it.
    let reply = app
        .http
        .send(Method::POST, "/auth/rt/logout", Some(&access), None)
        .await;
    assert_eq!((reply.status, reply.text.as_str()), (204, ""));
    assert_oauth_error(&refresh(app, &token).await, "invalid_grant");
    assert_eq!(me(app, &access).await, 401);

    // A deactivated user's refresh token (the session itself left alone).
    register(app, "bob@example.com").await;
    let (_, token) = tokens(&login(app, "rt", "bob@example.com").await);
    let store = app.warden.manager().store();
    let mut bob = store
        .get_by_email("bob@example.com")
        .await
        .unwrap()
        .unwrap();
    bob.is_active = false;
    store.update(bob).await.unwrap();
    assert_oauth_error(&refresh(app, &token).await, "invalid_grant");
}

on_both_stores!(refusals, refusals_flow);

/// The session row's end (`expires_at`).
async fn session_end(app: &App, sid: &str) -> Option<i64> {
    let sql = format!("SELECT expires_at FROM warden_session WHERE id = '{sid}'");
    app.db.integer(&sql).await
}

/// Moves a session's end, behind the application's back. Its tokens must not have
/// been presented yet, so no instance holds the session in its cache.
async fn set_session_end(app: &App, sid: &str, end: i64) {
    let sql = format!("UPDATE warden_session SET expires_at = {end} WHERE id = '{sid}'");
    assert_eq!(app.db.execute(&sql).await, 1);
}

async fn lifetime_flow(app: &App) {
    register(app, "ann@example.com").await;
    let (access, token) = tokens(&login(app, "rt", "ann@example.com").await);
    let login_claims = claims(&access);
    let sid = login_claims["sid"].as_str().unwrap().to_owned();
    let created = app
        .db
        .integer(&format!(
            "SELECT created_at FROM warden_session WHERE id = '{sid}'"
        ))
        .await
        .unwrap();
    assert_eq!(login_claims["auth_time"].as_i64(), Some(created));
    let end = session_end(app, &sid).await.unwrap();
    assert_eq!(end, created + 604_800);
    assert!(login_claims["exp"].as_i64().unwrap() <= end);

    // The end nears: neither the new access token nor the new refresh token outlive it.
    let end = now() + 100;
    set_session_end(app, &sid, end).await;
    let reply = refresh(app, &token).await;
    let (access, token) = tokens(&reply);
    assert!(
        reply.json()["expires_in"].as_i64().unwrap() <= 100,
        "{}",
        reply.text
    );
    assert!(
        claims(&access)["exp"].as_i64().unwrap() <= end,
        "{}",
        claims(&access)
    );
    let sql = format!(
        "SELECT expires_at FROM warden_refresh_token WHERE hash = '{}'",
        hash(&token)
    );
    assert!(app.db.integer(&sql).await.unwrap() <= end);

    // Past it, both are refused.
    set_session_end(app, &sid, now() - 1).await;
    assert_eq!(me(app, &access).await, 401);
    assert_oauth_error(&refresh(app, &token).await, "invalid_grant");
}

on_both_stores!(session_end_caps_tokens, lifetime_flow);

/// FastAPI Users' recipe: `POST /auth/jwt/refresh` with only the access token.
async fn recipe(app: &App, token: &str) -> Value {
    let reply = app
        .http
        .send(Method::POST, "/auth/jwt/refresh", Some(token), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    let access = body["access_token"].clone();
    assert_eq!(
        body,
        json!({"access_token": access, "token_type": "bearer"})
    );
    assert_eq!(me(app, access.as_str().unwrap()).await, 200);
    claims(access.as_str().unwrap())
}

async fn recipe_flow(app: &App) {
    let ann = register(app, "ann@example.com").await;
    let token = app.http.login("jwt", "ann@example.com", PASSWORD).await;
    let old = claims(&token);
    let sid = old["sid"].as_str().unwrap();
    // A session near its end (set before the token is first presented).
    let end = now() + 100;
    set_session_end(app, sid, end).await;
    let new = recipe(app, &token).await;
    assert_eq!(
        (&new["sid"], &new["auth_time"]),
        (&old["sid"], &old["auth_time"])
    );
    assert_ne!(new["jti"], old["jti"]);
    assert!(new["exp"].as_i64().unwrap() <= end, "{new}");

    // A FastAPI Users token, sessionless: it gets a session from its issue time.
    let exp = now() + 3600;
    let legacy = json!({"sub": ann, "aud": ["fastapi-users:auth"], "exp": exp});
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    let legacy = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &legacy, &key).unwrap();
    let new = recipe(app, &legacy).await;
    assert!(new["sid"].is_string() && new["sid"] != old["sid"], "{new}");
    assert_eq!(new["auth_time"].as_i64(), Some(exp - 3600));
    let sid = new["sid"].as_str().unwrap();
    let sql = format!("SELECT created_at FROM warden_session WHERE id = '{sid}'");
    assert_eq!(app.db.integer(&sql).await, Some(exp - 3600));
}

on_both_stores!(fastapi_users_recipe, recipe_flow);

/// `POST /auth/{backend}/refresh` with only the access token (FastAPI Users'
/// recipe), on any backend.
async fn recipe_on(app: &App, backend: &str, token: &str) -> Reply {
    app.http
        .send(
            Method::POST,
            &format!("/auth/{backend}/refresh"),
            Some(token),
            None,
        )
        .await
}

/// The recipe's 200: FastAPI Users' body, an access token only; the token.
fn access_only(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.json();
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        body,
        json!({"access_token": access, "token_type": "bearer"})
    );
    access
}

async fn logout(app: &App, backend: &str, token: &str) {
    let path = format!("/auth/{backend}/logout");
    let reply = app.http.send(Method::POST, &path, Some(token), None).await;
    assert_eq!((reply.status, reply.text.as_str()), (204, ""));
}

/// Item: an opaque token's refresh opened a session of its own, so logging out
/// the new token left the old one working.
async fn opaque_recipe_flow(app: &App) {
    let ann = register(app, "ann@example.com").await;
    let first = app.http.login("db", "ann@example.com", PASSWORD).await;
    let second = access_only(&recipe_on(app, "db", &first).await);
    let third = access_only(&recipe_on(app, "db", &second).await);
    for token in [&first, &second, &third] {
        assert_eq!(me(app, token).await, 200);
    }
    // One login, one session; FastAPI Users' rows keep their shape beside it.
    let sessions = format!("SELECT COUNT(*) FROM warden_session WHERE user_id = '{ann}'");
    assert_eq!(app.db.integer(&sessions).await, Some(1));
    let rows = format!("SELECT COUNT(*) FROM accesstoken WHERE token IN ('{first}', '{third}')");
    assert_eq!(app.db.integer(&rows).await, Some(2));

    // Logging out the newest token ends every token of the login.
    logout(app, "db", &third).await;
    for token in [&first, &second, &third] {
        assert_eq!(me(app, token).await, 401);
        let reply = recipe_on(app, "db", token).await;
        assert_eq!(reply.status, 401, "{}", reply.text);
        assert_eq!(reply.json(), json!({"detail": "Unauthorized"}));
    }
}

on_both_stores!(
    logging_out_a_refreshed_opaque_token_ends_the_tokens_it_was_refreshed_from,
    opaque_recipe_flow
);

async fn opaque_reuse_flow(app: &App) {
    register(app, "ann@example.com").await;
    let (first, spent) = tokens(&login(app, "odb", "ann@example.com").await);
    let second_reply = post_form(
        app,
        "/auth/odb/refresh",
        &[("grant_type", "refresh_token"), ("refresh_token", &spent)],
    )
    .await;
    let (second, next) = tokens(&second_reply);
    let third = access_only(&recipe_on(app, "odb", &second).await);
    for token in [&first, &second, &third] {
        assert_eq!(me(app, token).await, 200);
    }
    // Another login of Ann's, untouched by what follows.
    let (other, _) = tokens(&login(app, "odb", "ann@example.com").await);

    // The thief replays the spent refresh token: the whole login ends.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", spent.as_str()),
    ];
    assert_oauth_error(
        &post_form(app, "/auth/odb/refresh", &form).await,
        "invalid_grant",
    );
    for token in [&first, &second, &third] {
        assert_eq!(me(app, token).await, 401);
    }
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", next.as_str()),
    ];
    assert_oauth_error(
        &post_form(app, "/auth/odb/refresh", &form).await,
        "invalid_grant",
    );
    assert_eq!(me(app, &other).await, 200);
}

on_both_stores!(
    a_reused_refresh_token_ends_every_opaque_token_of_its_login,
    opaque_reuse_flow
);

/// Item: the recipe answered a refresh token too, so a moment's hold of an access
/// token started a refresh chain of its own.
async fn no_chain_flow(app: &App) {
    register(app, "ann@example.com").await;
    let (access, _) = tokens(&login(app, "rt", "ann@example.com").await);
    access_only(&recipe_on(app, "rt", &access).await);
    let (opaque, _) = tokens(&login(app, "odb", "ann@example.com").await);
    access_only(&recipe_on(app, "odb", &opaque).await);
    // Only the two logins' refresh tokens exist.
    let count = app
        .db
        .integer("SELECT COUNT(*) FROM warden_refresh_token")
        .await;
    assert_eq!(count, Some(2));
}

on_both_stores!(an_access_token_buys_no_refresh_token, no_chain_flow);

/// FastAPI Users' own `accesstoken` rows (no login recorded beside them) keep
/// working; a refresh of one opens a login that adopts it, so logging out the
/// refreshed token ends it too, and leaves the user's other rows alone.
async fn migrated_flow(app: &App) {
    let ann = register(app, "ann@example.com").await;
    let insert = async |token: &str| {
        assert_eq!(token.len(), 43);
        let insert = format!(
            "INSERT INTO accesstoken (token, created_at, user_id) \
             VALUES ('{token}', CURRENT_TIMESTAMP, '{ann}')"
        );
        assert_eq!(app.db.execute(&insert).await, 1);
    };
    let migrated = "fastapi-users-token-of-forty-three-chars-xx";
    let untouched = "fastapi-users-token-of-forty-three-chars-yy";
    insert(migrated).await;
    insert(untouched).await;
    assert_eq!(me(app, migrated).await, 200);
    let refreshed = access_only(&recipe_on(app, "db", migrated).await);
    assert_eq!(me(app, &refreshed).await, 200);
    assert_eq!(me(app, migrated).await, 200);
    logout(app, "db", &refreshed).await;
    assert_eq!(me(app, &refreshed).await, 401);
    assert_eq!(me(app, migrated).await, 401);
    assert_eq!(me(app, untouched).await, 200);
}

on_both_stores!(
    fastapi_users_access_token_rows_keep_working_and_join_their_refresh,
    migrated_flow
);
