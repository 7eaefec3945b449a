//! API keys and scopes through real HTTP, on the injectable clock: a key is shown
//! once and stored hashed; a mistyped key is refused; scopes admit and refuse
//! (RFC 6750's `insufficient_scope`); a key never passes `fresh` or `mfa` and
//! never changes credentials; revocation, expiry, deactivation and deletion end a
//! key on the other instance; a password change and "log out everywhere" do not;
//! the per-key rate limit answers 429 with `Retry-After`; superusers list and
//! revoke anyone's keys. Each flow runs on the memory store, one SQLite file
//! served by two instances, and two instances on one PostgreSQL database (needs
//! `WARDEN_TEST_POSTGRES_URL`, else "skipped"): keys are made on instance A and
//! used on instance B.

#[macro_use]
mod common;

use std::sync::Arc;

use axum::Json;
use axum::routing::get;
use common::events::Collect;
use common::served::Shared;
use common::{Http, Jwt, Reply, assert_forbidden};
use reqwest::Method;
use serde_json::{Value, json};
use warden::passkeys::Passkeys;
use warden::store::CacheSettings;
use warden::{Clock, User, UserStore, Warden, auth_backend, protected};

const PASSWORD: &str = "correct-horse";
/// Requests one key may make a minute on one instance, in these tests.
const LIMIT: u32 = 30;

#[derive(Clone, Copy, warden::Scopes)]
enum Scope {
    #[scope("reports:read")]
    ReportsRead,
    #[scope("reports:write")]
    #[allow(dead_code)]
    ReportsWrite,
}

/// API keys as `Authorization: Bearer`.
#[auth_backend(name = "keys", strategy = "api_key")]
struct Keys;

/// API keys in `X-API-Key`.
#[auth_backend(name = "header-keys", strategy = "api_key", transport = header("X-API-Key"))]
struct HeaderKeys;

#[protected(active, scope = Scope::ReportsRead)]
async fn reports(user: User) -> Json<Value> {
    Json(json!({ "reports": [], "for": user.email }))
}

#[protected(active, fresh = 300)]
async fn payout(_user: User) -> Json<Value> {
    Json(json!({ "ok": true }))
}

#[protected(active, mfa)]
async fn export(_user: User) -> Json<Value> {
    Json(json!({ "ok": true }))
}

/// Two instances over one store (the memory store: one instance twice).
struct Pair {
    a: Http,
    b: Http,
    warden_a: Warden,
    clock: Clock,
    events: Collect,
}

/// A warden over `store`, with the user cache `Shared::cache` allows.
fn warden_over(
    store: Arc<dyn UserStore<User>>,
    clock: &Clock,
    events: &Collect,
    cache: CacheSettings,
) -> Warden {
    Warden::builder()
        .clock(clock.clone())
        .shared_store(store)
        .user_cache(cache)
        .backend::<Jwt>()
        .unwrap()
        .backend::<Keys>()
        .unwrap()
        .backend::<HeaderKeys>()
        .unwrap()
        .scopes::<Scope>()
        .api_key_rate_limit(LIMIT)
        .passkeys(
            Passkeys::new("example.com", ["https://app.example.com"], "Example")
                .secret("a-passkey-decoy-secret-of-32-bytes!!"),
        )
        .security_events(events.clone())
        .build()
        .unwrap()
}

fn app(warden: &Warden) -> axum::Router {
    axum::Router::new()
        .route("/reports", get(reports))
        .route("/payout", get(payout))
        .route("/export", get(export))
        .merge(warden.routes())
        .with_state(warden.clone())
}

async fn pair(shared: Shared) -> Pair {
    let clock = Clock::manual(common::now());
    let events = Collect::default();
    let cache = shared.cache();
    let [one, two] = shared.stores;
    let a = warden_over(one, &clock, &events, cache);
    let b = warden_over(two, &clock, &events, cache);
    Pair {
        a: Http::new(common::serve(app(&a)).await),
        b: Http::new(common::serve(app(&b)).await),
        warden_a: a,
        clock,
        events,
    }
}

async fn memory() -> Pair {
    pair(Shared::memory()).await
}

async fn sqlite(dir: &tempfile::TempDir) -> Pair {
    pair(Shared::sqlite(dir, "keys.db").await).await
}

async fn postgres(test: &str) -> Option<Pair> {
    Some(pair(Shared::postgres(test).await?).await)
}

/// A user with a password, signed in on A: their id and session token.
async fn signed_in(pair: &Pair, email: &str) -> (String, String) {
    let id = pair.a.register(email, PASSWORD).await;
    (id, pair.a.login("jwt", email, PASSWORD).await)
}

/// Creates a key on A with `body`; asserts the 201 and answers the body.
async fn create(pair: &Pair, token: &str, body: Value) -> Value {
    let reply = pair
        .a
        .send(Method::POST, "/users/me/api-keys", Some(token), Some(&body))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    reply.json()
}

async fn get_with(http: &Http, path: &str, key: &str) -> Reply {
    http.send(Method::GET, path, Some(key), None).await
}

#[track_caller]
fn assert_refused(reply: &Reply) {
    assert_eq!(reply.status, 401, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "Unauthorized"}));
    assert_eq!(
        reply.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token""#)
    );
}

/// Shown once, stored hashed, used on the other instance, in either transport; a
/// typo is refused; the listing has no secret.
async fn shown_once_and_stored_hashed(pair: &Pair) {
    let (_, token) = signed_in(pair, "alice@example.com").await;
    let created = create(
        pair,
        &token,
        json!({"name": "ci", "scopes": ["reports:read"], "expires_in_days": 30}),
    )
    .await;
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with("wdn_") && key.len() == 65, "{key}");
    assert!(key[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(created["prefix"], format!("wdn_{id}"));
    assert_eq!(created["name"], "ci");
    assert_eq!(created["scopes"], json!(["reports:read"]));
    assert_eq!(created["last_used_at"], Value::Null);
    assert!(created["expires_at"].is_string());

    // The row holds the SHA-256 of the secret, never the key or the secret.
    let secret = &key[4 + 12..key.len() - 6];
    let stored = pair
        .warden_a
        .manager()
        .store()
        .api_keys()
        .unwrap()
        .get(&id)
        .await
        .unwrap()
        .unwrap();
    use base64::Engine as _;
    use sha2::Digest as _;
    assert_eq!(
        stored.secret_hash,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(secret))
    );
    assert!(!stored.secret_hash.contains(secret));

    // Used on the other instance, as a bearer token or in its header.
    let reply = get_with(&pair.b, "/reports", &key).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["for"], "alice@example.com");
    let reply = Reply::read(
        pair.b
            .client
            .get(format!("{}/users/me", pair.b.base))
            .header("X-API-Key", &key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);

    // A typo fails the checksum: refused as any bad credential.
    let mut typo = key.clone().into_bytes();
    typo[30] = if typo[30] == b'A' { b'B' } else { b'A' };
    assert_refused(&get_with(&pair.b, "/reports", &String::from_utf8(typo).unwrap()).await);

    // Listed without its secret, its last use written (off the request).
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let listed = get_with(&pair.a, "/users/me/api-keys", &token).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert!(!listed.text.contains(secret) && !listed.text.contains("\"key\""));
    let listed = listed.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["id"], id.as_str());
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");

    // Unknown scopes: 422 naming the valid ones; nothing is stored.
    let reply = pair
        .a
        .send(
            Method::POST,
            "/users/me/api-keys",
            Some(&token),
            Some(&json!({"name": "x", "scopes": ["reports:read", "reprots:write"]})),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    let detail = &reply.json()["detail"][0];
    assert_eq!(detail["loc"], json!(["body", "scopes"]));
    assert_eq!(
        detail["msg"],
        "Unknown scopes: reprots:write; the valid scopes are: reports:read, reports:write"
    );
    assert_eq!(
        pair.events.named("api_key_created").await.len(),
        1,
        "one key made"
    );
}

/// A session holds every scope; a key only its own, refused with RFC 6750's
/// challenge; a key never passes `fresh` or `mfa` and never manages credentials.
async fn scopes_and_refusals(pair: &Pair) {
    let (_, token) = signed_in(pair, "bob@example.com").await;
    assert_eq!(get_with(&pair.b, "/reports", &token).await.status, 200);
    let none = create(pair, &token, json!({"name": "bare"})).await;
    let bare = none["key"].as_str().unwrap();
    assert_eq!(none["scopes"], json!([]));
    assert_eq!(none["expires_at"], Value::Null);
    let reply = get_with(&pair.b, "/reports", bare).await;
    assert_eq!(reply.status, 403, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "Forbidden"}));
    assert_eq!(
        reply.header("www-authenticate"),
        Some(r#"Bearer error="insufficient_scope", scope="reports:read""#)
    );
    // Fresh and mfa: never, whatever the key holds.
    let scoped = create(
        pair,
        &token,
        json!({"name": "r", "scopes": ["reports:read"]}),
    )
    .await;
    let key = scoped["key"].as_str().unwrap();
    assert_forbidden(&get_with(&pair.b, "/payout", key).await);
    assert_forbidden(&get_with(&pair.b, "/export", key).await);
    assert_eq!(get_with(&pair.b, "/payout", &token).await.status, 200);
    // Credentials, sessions and keys: 403 for a key.
    for (method, path, body) in [
        (
            Method::PATCH,
            "/users/me",
            Some(json!({"password": "another-horse"})),
        ),
        (Method::PATCH, "/users/me", Some(json!({"first_name": "x"}))),
        (
            Method::POST,
            "/users/me/api-keys",
            Some(json!({"name": "x"})),
        ),
        (Method::GET, "/users/me/api-keys", None),
        (Method::DELETE, "/users/me/api-keys/whatever", None),
        (Method::GET, "/users/me/sessions", None),
        (Method::DELETE, "/users/me/sessions", None),
        (Method::POST, "/users/me/passkeys/options", Some(json!({}))),
        (Method::GET, "/users/me/passkeys", None),
    ] {
        let reply = pair
            .b
            .send(method.clone(), path, Some(key), body.as_ref())
            .await;
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.text);
    }
    // A key is not a session.
    let sessions = get_with(&pair.a, "/users/me/sessions", &token).await;
    assert_eq!(sessions.json().as_array().map(Vec::len), Some(1));
    // A password change and "log out everywhere" leave keys working (as GitHub's
    // tokens survive a password change): revoke them one by one.
    pair.a.change_password(&token, "another-horse").await;
    assert_eq!(get_with(&pair.b, "/reports", key).await.status, 200);
    let token = pair
        .a
        .login("jwt", "bob@example.com", "another-horse")
        .await;
    let reply = pair
        .a
        .send(Method::DELETE, "/users/me/sessions", Some(&token), None)
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(get_with(&pair.b, "/reports", key).await.status, 200);
}

/// Revocation and expiry end a key on the other instance; revoking twice is 404.
async fn revoked_and_expired(pair: &Pair) {
    let (_, token) = signed_in(pair, "carol@example.com").await;
    let made = create(
        pair,
        &token,
        json!({"name": "a", "scopes": ["reports:read"]}),
    )
    .await;
    let (key, id) = (made["key"].as_str().unwrap(), made["id"].as_str().unwrap());
    assert_eq!(get_with(&pair.b, "/reports", key).await.status, 200);
    let path = format!("/users/me/api-keys/{id}");
    assert_eq!(
        pair.a
            .send(Method::DELETE, &path, Some(&token), None)
            .await
            .status,
        204
    );
    assert_refused(&get_with(&pair.b, "/reports", key).await);
    assert_eq!(
        pair.a
            .send(Method::DELETE, &path, Some(&token), None)
            .await
            .status,
        404
    );
    assert_eq!(pair.events.named("api_key_revoked").await.len(), 1);
    // The revoked key in use is its owner's to hear of.
    let reused = pair.events.named("revoked_api_key_used").await;
    assert_eq!(reused.len(), 1, "{reused:?}");
    assert_eq!(reused[0]["key_id"], json!(id));

    let made = create(
        pair,
        &token,
        json!({"name": "day", "scopes": ["reports:read"], "expires_in_days": 1}),
    )
    .await;
    let key = made["key"].as_str().unwrap();
    assert_eq!(get_with(&pair.b, "/reports", key).await.status, 200);
    pair.clock.advance(86_400);
    assert_refused(&get_with(&pair.b, "/reports", key).await);
    for days in [json!(0), json!(3651), json!("7"), json!(1.5)] {
        let reply = pair
            .a
            .send(
                Method::POST,
                "/users/me/api-keys",
                Some(&pair.a.login("jwt", "carol@example.com", PASSWORD).await),
                Some(&json!({"name": "x", "expires_in_days": days})),
            )
            .await;
        assert_eq!(reply.status, 422, "{days}: {}", reply.text);
    }
    // Creating a key needs a sign-in of the last five minutes.
    let token = pair.a.login("jwt", "carol@example.com", PASSWORD).await;
    pair.clock.advance(301);
    let reply = pair
        .a
        .send(
            Method::POST,
            "/users/me/api-keys",
            Some(&token),
            Some(&json!({"name": "x"})),
        )
        .await;
    assert_eq!(reply.status, 401, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "REAUTHENTICATION_REQUIRED"}));
}

/// Superusers list and revoke anyone's keys; deactivation and deletion end a key
/// on the other instance.
async fn superusers_deactivation_and_deletion(pair: &Pair) {
    let (_, admin) = signed_in(pair, "admin@example.com").await;
    let store = pair.warden_a.manager().store();
    let mut user = store
        .get_by_email("admin@example.com")
        .await
        .unwrap()
        .unwrap();
    user.is_superuser = true;
    store.update(user).await.unwrap();
    let (dave, token) = signed_in(pair, "dave@example.com").await;
    let made = create(
        pair,
        &token,
        json!({"name": "d", "scopes": ["reports:read"]}),
    )
    .await;
    let (key, id) = (made["key"].as_str().unwrap(), made["id"].as_str().unwrap());

    let listed = get_with(&pair.a, &format!("/users/{dave}/api-keys"), &admin).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.json()[0]["id"], id);
    assert_forbidden(&get_with(&pair.a, &format!("/users/{dave}/api-keys"), &token).await);
    let path = format!("/users/{dave}/api-keys/{id}");
    assert_forbidden(&pair.a.send(Method::DELETE, &path, Some(&token), None).await);
    assert_eq!(
        pair.a
            .send(Method::DELETE, &path, Some(&admin), None)
            .await
            .status,
        204
    );
    assert_refused(&get_with(&pair.b, "/reports", key).await);

    // Deactivated on A: the key is over on B, on a route that does not ask for
    // an active user too.
    let made = create(
        pair,
        &token,
        json!({"name": "e", "scopes": ["reports:read"]}),
    )
    .await;
    let key = made["key"].as_str().unwrap();
    assert_eq!(get_with(&pair.b, "/users/me", key).await.status, 200);
    let reply = pair
        .a
        .send(
            Method::PATCH,
            &format!("/users/{dave}"),
            Some(&admin),
            Some(&json!({"is_active": false})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // PostgreSQL's change feed reaches B's user cache in milliseconds.
    common::until_seen("a deactivation through A, by B's key check", async || {
        get_with(&pair.b, "/reports", key).await.status == 401
    })
    .await;
    assert_refused(&get_with(&pair.b, "/reports", key).await);
    let reply = pair
        .a
        .send(
            Method::PATCH,
            &format!("/users/{dave}"),
            Some(&admin),
            Some(&json!({"is_active": true})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    common::until_seen("a reactivation through A, by B", async || {
        get_with(&pair.b, "/reports", key).await.status == 200
    })
    .await;
    // Deleted: its keys go with it.
    let reply = pair
        .a
        .send(
            Method::DELETE,
            &format!("/users/{dave}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    common::until_seen("a deletion through A, by B", async || {
        get_with(&pair.b, "/reports", key).await.status == 401
    })
    .await;
    assert_refused(&get_with(&pair.b, "/reports", key).await);
}

/// A key's requests beyond the limit in a minute: 429 with `Retry-After`, until
/// the next minute.
async fn rate_limited(pair: &Pair) {
    let (_, token) = signed_in(pair, "erin@example.com").await;
    let made = create(
        pair,
        &token,
        json!({"name": "busy", "scopes": ["reports:read"]}),
    )
    .await;
    let key = made["key"].as_str().unwrap();
    // Start at the top of a minute, so the window does not turn mid-test.
    let now = pair.clock.now();
    pair.clock.advance(60 - now.rem_euclid(60));
    for _ in 0..LIMIT {
        assert_eq!(get_with(&pair.a, "/reports", key).await.status, 200);
    }
    let reply = get_with(&pair.a, "/reports", key).await;
    assert_eq!(reply.status, 429, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "Too Many Requests"}));
    assert_eq!(reply.header("retry-after"), Some("60"));
    // Per instance: B counts alone.
    assert_eq!(get_with(&pair.b, "/reports", key).await.status, 200);
    // Another user's session is not limited by it.
    assert_eq!(get_with(&pair.a, "/reports", &token).await.status, 200);
    pair.clock.advance(60);
    assert_eq!(get_with(&pair.a, "/reports", key).await.status, 200);
}

on_every_store!(
    keys_are_shown_once_and_stored_hashed,
    shown_once_and_stored_hashed
);
on_every_store!(scopes_admit_and_refuse, scopes_and_refusals);
on_every_store!(revocation_and_expiry_end_keys, revoked_and_expired);
on_every_store!(
    superusers_and_deactivation,
    superusers_deactivation_and_deletion
);
on_every_store!(keys_are_rate_limited, rate_limited);

/// The document: an API key security scheme per key backend, the key routes, and
/// no login, logout or refresh for a key backend.
#[tokio::test]
async fn the_document_lists_keys_and_no_sign_in_for_them() {
    let pair = memory().await;
    let doc = pair
        .a
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .json();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["HTTPBearer"]["type"], "http");
    assert_eq!(schemes["HTTPBearer"]["scheme"], "bearer");
    assert_eq!(
        schemes["APIKeyHeader"],
        json!({"type": "apiKey", "in": "header", "name": "X-API-Key"})
    );
    let paths = &doc["paths"];
    assert!(paths["/users/me/api-keys"]["post"].is_object());
    assert!(paths["/users/me/api-keys"]["get"].is_object());
    assert!(paths["/users/me/api-keys/{key_id}"]["delete"].is_object());
    assert!(paths["/users/{id}/api-keys"]["get"].is_object());
    assert!(paths["/users/{id}/api-keys/{key_id}"]["delete"].is_object());
    assert!(paths["/auth/keys/login"].is_null());
    assert!(paths["/auth/header-keys/logout"].is_null());
    assert!(paths["/auth/keys/passkey"].is_null());
    assert!(paths["/auth/jwt/passkey"].is_object());
    assert!(paths["/auth/jwt/login"].is_object());
}
