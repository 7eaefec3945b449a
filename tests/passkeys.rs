//! Passkeys through real HTTP, with the software authenticator of
//! `tests/common/authenticator.rs`: registering, listing, renaming and deleting a
//! passkey; signing in with it through the one sign-in step (`amr`); every
//! refusal the README lists, with its code; decoy options for unknown logins;
//! passkey-only accounts. Each flow runs on the memory store, one SQLite file
//! served by two instances, and two instances on one PostgreSQL database (needs
//! `WARDEN_TEST_POSTGRES_URL`, else "skipped"): options come from instance A and
//! are finished on instance B.

#[macro_use]
mod common;

use std::sync::Arc;

use common::authenticator::Authenticator;
use common::events::Collect;
use common::served::Shared;
use common::{Http, Jwt, Reply, claims};
use reqwest::Method;
use serde_json::{Value, json};
use warden::passkeys::Passkeys;
use warden::{Clock, MemoryStore, User, UserStore, Warden};

const ORIGIN: &str = "https://app.example.com";
const RP_ID: &str = "example.com";
const PASSWORD: &str = "correct-horse";
const SECRET: &str = "a-passkey-decoy-secret-of-32-bytes!!";

/// Two instances over one store (the memory store: one instance twice), their
/// clock and their security events.
struct Pair {
    a: Http,
    b: Http,
    clock: Clock,
    events: Collect,
}

fn warden_over(store: Arc<dyn UserStore<User>>, clock: &Clock, events: &Collect) -> Warden {
    Warden::builder()
        .clock(clock.clone())
        .shared_store(store)
        .backend::<Jwt>()
        .unwrap()
        .passkeys(
            Passkeys::new(RP_ID, [ORIGIN], "Example")
                .secret(SECRET)
                .discoverable(true)
                .signup(true),
        )
        .security_events(events.clone())
        .build()
        .unwrap()
}

async fn pair(stores: [Arc<dyn UserStore<User>>; 2]) -> Pair {
    let clock = Clock::manual(common::now());
    let events = Collect::default();
    let [one, two] = stores;
    let a = warden_over(one, &clock, &events);
    let b = warden_over(two, &clock, &events);
    Pair {
        a: Http::new(common::serve(common::app(&a)).await),
        b: Http::new(common::serve(common::app(&b)).await),
        clock,
        events,
    }
}

async fn memory() -> Pair {
    pair(Shared::memory().stores).await
}

async fn sqlite(dir: &tempfile::TempDir) -> Pair {
    pair(Shared::sqlite(dir, "passkeys.db").await.stores).await
}

async fn postgres(test: &str) -> Option<Pair> {
    Some(pair(Shared::postgres(test).await?.stores).await)
}

async fn post(http: &Http, path: &str, token: Option<&str>, body: Value) -> Reply {
    http.send(Method::POST, path, token, Some(&body)).await
}

#[track_caller]
fn assert_code(reply: &Reply, code: &str) {
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": code}));
}

/// A user with a password, signed in: their token.
async fn signed_in(http: &Http, email: &str) -> String {
    http.register(email, PASSWORD).await;
    http.login("jwt", email, PASSWORD).await
}

/// Registers `authenticator`'s passkey for the user of `token`: options on A,
/// finished on B. The reply of the finishing request.
async fn add(pair: &Pair, token: &str, authenticator: &mut Authenticator, name: &str) -> Reply {
    let options = post(
        &pair.a,
        "/users/me/passkeys/options",
        Some(token),
        json!({}),
    )
    .await;
    assert_eq!(options.status, 200, "{}", options.text);
    assert_eq!(options.header("cache-control"), Some("no-store"));
    let credential = authenticator.create(&options.json());
    post(
        &pair.b,
        "/users/me/passkeys",
        Some(token),
        json!({"name": name, "credential": credential}),
    )
    .await
}

/// Request options for `username` from A.
async fn login_options(pair: &Pair, username: Value) -> Value {
    let body = match username {
        Value::Null => json!({}),
        username => json!({"username": username}),
    };
    let reply = post(&pair.a, "/auth/jwt/passkey/options", None, body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()
}

/// A passkey sign-in of `email` with `authenticator`: options on A, finished on B.
async fn sign_in(pair: &Pair, email: &str, authenticator: &mut Authenticator) -> Reply {
    let options = login_options(pair, json!(email)).await;
    let credential = authenticator.get(&options);
    post(
        &pair.b,
        "/auth/jwt/passkey",
        None,
        json!({"credential": credential}),
    )
    .await
}

async fn register_sign_in_and_manage(pair: &Pair) {
    let token = signed_in(&pair.a, "ada@example.com").await;
    let mut key = Authenticator::new(ORIGIN);
    let added = add(pair, &token, &mut key, "Laptop").await;
    assert_eq!(added.status, 201, "{}", added.text);
    let read = added.json();
    assert_eq!(read["id"], key.id());
    assert_eq!(read["name"], "Laptop");
    assert_eq!(read["backed_up"], false);
    assert_eq!(read["last_used_at"], Value::Null);
    let added_events = pair.events.named("passkey_added").await;
    assert_eq!(added_events[0]["email"], "ada@example.com");
    assert_eq!(added_events[0]["name"], "Laptop");

    // The next options exclude it: one authenticator, one passkey.
    let options = post(
        &pair.a,
        "/users/me/passkeys/options",
        Some(&token),
        json!({}),
    )
    .await;
    let public_key = &options.json()["publicKey"];
    assert_eq!(public_key["excludeCredentials"][0]["id"], key.id());
    assert_eq!(
        public_key["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(public_key["rp"]["id"], RP_ID);

    // Sign in: the options offer it, the answer is the backend's login response.
    let options = login_options(pair, json!("ADA@example.com")).await;
    assert_eq!(options["publicKey"]["allowCredentials"][0]["id"], key.id());
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let credential = key.get(&options);
    let signed = post(
        &pair.b,
        "/auth/jwt/passkey",
        None,
        json!({"credential": credential}),
    )
    .await;
    assert_eq!(signed.status, 200, "{}", signed.text);
    assert_eq!(signed.header("cache-control"), Some("no-store"));
    let access = signed.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&access)["amr"], json!(["hwk", "mfa"]));
    assert_eq!(pair.a.me(&access).await.status, 200);
    // The same answer again: its challenge is spent.
    let replayed = post(
        &pair.a,
        "/auth/jwt/passkey",
        None,
        json!({"credential": credential}),
    )
    .await;
    assert_code(&replayed, "PASSKEY_CHALLENGE_INVALID");

    // Listed with its last use; renamed; deleted (the password stays a way in).
    let listed = pair
        .b
        .send(Method::GET, "/users/me/passkeys", Some(&access), None)
        .await;
    assert_eq!(listed.status, 200);
    let listed = listed.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert!(listed[0]["last_used_at"].is_string());
    let path = format!("/users/me/passkeys/{}", key.id());
    let renamed = pair
        .a
        .send(
            Method::PATCH,
            &path,
            Some(&access),
            Some(&json!({"name": "Work laptop"})),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.json()["name"], "Work laptop");
    let too_long = pair
        .a
        .send(
            Method::PATCH,
            &path,
            Some(&access),
            Some(&json!({"name": "x".repeat(65)})),
        )
        .await;
    assert_eq!(too_long.status, 422);
    // Another user can neither rename nor delete it.
    let other = signed_in(&pair.a, "bob@example.com").await;
    let foreign = pair.a.send(Method::DELETE, &path, Some(&other), None).await;
    assert_eq!(foreign.status, 404);
    // Deleting needs a fresh sign-in.
    pair.clock.advance(301);
    let stale = pair
        .a
        .send(Method::DELETE, &path, Some(&access), None)
        .await;
    assert_eq!(stale.status, 401, "{}", stale.text);
    assert_eq!(stale.json(), json!({"detail": "REAUTHENTICATION_REQUIRED"}));
    let fresh = sign_in(pair, "ada@example.com", &mut key).await;
    assert_eq!(fresh.status, 200, "{}", fresh.text);
    let fresh = fresh.json()["access_token"].as_str().unwrap().to_owned();
    let deleted = pair.b.send(Method::DELETE, &path, Some(&fresh), None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert_eq!(pair.events.named("passkey_removed").await.len(), 1);
    let signed = sign_in(pair, "ada@example.com", &mut key).await;
    assert_code(&signed, "LOGIN_BAD_CREDENTIALS");
}
on_every_store!(register_sign_in_and_manage, register_sign_in_and_manage);

async fn each_refusal_has_its_code(pair: &Pair) {
    let token = signed_in(&pair.a, "ada@example.com").await;

    // Registration: no user verification, a wrong origin, a wrong RP ID.
    let mut unverified = Authenticator::new(ORIGIN);
    unverified.user_verified = false;
    let reply = add(pair, &token, &mut unverified, "x").await;
    assert_code(&reply, "PASSKEY_USER_VERIFICATION_REQUIRED");
    let mut elsewhere = Authenticator::new("https://evil.example.net");
    assert_code(
        &add(pair, &token, &mut elsewhere, "x").await,
        "PASSKEY_ORIGIN_MISMATCH",
    );
    let mut other_rp = Authenticator::new(ORIGIN);
    other_rp.rp_id = Some("evil.example.net".into());
    assert_code(
        &add(pair, &token, &mut other_rp, "x").await,
        "PASSKEY_RP_ID_MISMATCH",
    );
    // A malformed credential is a clean 4xx.
    let malformed = post(
        &pair.a,
        "/users/me/passkeys",
        Some(&token),
        json!({"name": "x", "credential": {"response": {"clientDataJSON": "%%"}}}),
    )
    .await;
    assert_code(&malformed, "PASSKEY_CHALLENGE_INVALID");
    let not_object = post(
        &pair.a,
        "/users/me/passkeys",
        Some(&token),
        json!({"name": "x", "credential": 5}),
    )
    .await;
    assert_eq!(not_object.status, 422);

    // A good one, counting signatures.
    let mut key = Authenticator::new(ORIGIN);
    key.counter = 5;
    assert_eq!(add(pair, &token, &mut key, "Key").await.status, 201);
    // The same credential for another account: one credential, one account.
    let bob = signed_in(&pair.a, "bob@example.com").await;
    let mut copy = Authenticator::new(ORIGIN);
    copy.credential_id = key.credential_id.clone();
    assert_code(
        &add(pair, &bob, &mut copy, "x").await,
        "PASSKEY_ALREADY_REGISTERED",
    );

    // Sign-in: no user verification (Chromium never sends that; the server checks).
    key.user_verified = false;
    assert_code(
        &sign_in(pair, "ada@example.com", &mut key).await,
        "PASSKEY_USER_VERIFICATION_REQUIRED",
    );
    key.user_verified = true;
    key.origin = "https://evil.example.net".into();
    assert_code(
        &sign_in(pair, "ada@example.com", &mut key).await,
        "PASSKEY_ORIGIN_MISMATCH",
    );
    key.origin = ORIGIN.into();
    key.rp_id = Some("evil.example.net".into());
    assert_code(
        &sign_in(pair, "ada@example.com", &mut key).await,
        "PASSKEY_RP_ID_MISMATCH",
    );
    key.rp_id = None;
    // Ada's credential answering options made for Bob.
    let mut bobs = Authenticator::new(ORIGIN);
    assert_eq!(add(pair, &bob, &mut bobs, "Bob's").await.status, 201);
    let options = login_options(pair, json!("bob@example.com")).await;
    let credential = key.get(&options);
    let reply = post(
        &pair.b,
        "/auth/jwt/passkey",
        None,
        json!({"credential": credential}),
    )
    .await;
    assert_code(&reply, "LOGIN_BAD_CREDENTIALS");
    // A challenge older than five minutes.
    let options = login_options(pair, json!("ada@example.com")).await;
    pair.clock.advance(301);
    let credential = key.get(&options);
    let reply = post(
        &pair.b,
        "/auth/jwt/passkey",
        None,
        json!({"credential": credential}),
    )
    .await;
    assert_code(&reply, "PASSKEY_CHALLENGE_INVALID");
    // A good sign-in, then a counter that goes backwards: a cloned authenticator.
    let good = sign_in(pair, "ada@example.com", &mut key).await;
    assert_eq!(good.status, 200, "{}", good.text);
    key.counter = 2;
    assert_code(
        &sign_in(pair, "ada@example.com", &mut key).await,
        "PASSKEY_INVALID",
    );
    // Failures were counted by the login throttle and reported.
    let mut refused = Vec::new();
    for _ in 0..400 {
        refused = pair.events.named("sign_in_refused").await;
        if refused
            .iter()
            .any(|event| event["reason"] == "passkey_counter")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(
        refused
            .iter()
            .any(|event| event["reason"] == "passkey_counter"),
        "{refused:?}"
    );
    assert!(
        refused
            .iter()
            .any(|event| event["reason"] == "passkey_user_verification")
    );
}
on_every_store!(each_refusal_has_its_code, each_refusal_has_its_code);

async fn unknown_logins_get_decoys(pair: &Pair) {
    let token = signed_in(&pair.a, "ada@example.com").await;
    let mut key = Authenticator::new(ORIGIN);
    assert_eq!(add(pair, &token, &mut key, "Key").await.status, 201);
    signed_in(&pair.a, "nokeys@example.com").await;
    let shape = |options: &Value| {
        let public_key = options["publicKey"].as_object().unwrap();
        let mut keys: Vec<String> = public_key.keys().cloned().collect();
        keys.sort();
        let entry: Vec<String> = public_key["allowCredentials"][0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        (keys, entry, options.as_object().unwrap().len())
    };
    let real = login_options(pair, json!("ada@example.com")).await;
    let unknown = login_options(pair, json!("nobody@example.com")).await;
    let again = login_options(pair, json!("nobody@example.com")).await;
    let no_keys = login_options(pair, json!("nokeys@example.com")).await;
    assert_eq!(shape(&unknown).0, shape(&real).0, "{unknown} {real}");
    assert_eq!(shape(&no_keys).0, shape(&real).0);
    assert_eq!(
        unknown["publicKey"]["allowCredentials"], again["publicKey"]["allowCredentials"],
        "the same decoys each time"
    );
    assert_ne!(
        unknown["publicKey"]["challenge"],
        again["publicKey"]["challenge"]
    );
    // A real credential answering a decoy's options is refused as a wrong one.
    let credential = key.get(&unknown);
    let reply = post(
        &pair.b,
        "/auth/jwt/passkey",
        None,
        json!({"credential": credential}),
    )
    .await;
    assert_code(&reply, "LOGIN_BAD_CREDENTIALS");
    // Discoverable: `{}` asks the browser for the site's passkeys.
    let options = login_options(pair, Value::Null).await;
    assert_eq!(options["mediation"], "conditional");
    assert_eq!(options["publicKey"]["allowCredentials"], json!([]));
    let credential = key.get(&options);
    let reply = post(
        &pair.b,
        "/auth/jwt/passkey",
        None,
        json!({"credential": credential}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}
on_every_store!(unknown_logins_get_decoys, unknown_logins_get_decoys);

async fn passkey_only_accounts(pair: &Pair) {
    let options = post(
        &pair.a,
        "/auth/register/passkey/options",
        None,
        json!({"email": "pia@example.com"}),
    )
    .await;
    assert_eq!(options.status, 200, "{}", options.text);
    let mut key = Authenticator::new(ORIGIN);
    key.backup_eligible = true;
    let credential = key.create(&options.json());
    let created = post(
        &pair.b,
        "/auth/register/passkey",
        None,
        json!({"credential": credential, "name": "Phone"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json()["email"], "pia@example.com");
    assert!(created.json().get("hashed_password").is_none());
    // No password opens it.
    let login = pair
        .a
        .client
        .post(format!("{}/auth/jwt/login", pair.a.base))
        .form(&[("username", "pia@example.com"), ("password", "!passkey")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 400);
    // The passkey does: a synced one is `swk`.
    let signed = sign_in(pair, "pia@example.com", &mut key).await;
    assert_eq!(signed.status, 200, "{}", signed.text);
    let access = signed.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&access)["amr"], json!(["swk", "mfa"]));
    let listed = pair
        .a
        .send(Method::GET, "/users/me/passkeys", Some(&access), None)
        .await
        .json();
    assert_eq!(listed[0]["backed_up"], true);
    // Its only passkey is its last way in.
    let path = format!("/users/me/passkeys/{}", key.id());
    let refused = pair
        .a
        .send(Method::DELETE, &path, Some(&access), None)
        .await;
    assert_code(&refused, "PASSKEY_LAST_SIGN_IN");
    // The e-mail is taken now.
    let taken = post(
        &pair.a,
        "/auth/register/passkey/options",
        None,
        json!({"email": "PIA@example.com"}),
    )
    .await;
    assert_code(&taken, "REGISTER_USER_ALREADY_EXISTS");
}
on_every_store!(passkey_only_accounts, passkey_only_accounts);

#[tokio::test]
async fn the_routes_are_documented_and_the_client_is_served() {
    let pair = memory().await;
    let doc = pair
        .a
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .json();
    for (path, method) in [
        ("/users/me/passkeys/options", "post"),
        ("/users/me/passkeys", "post"),
        ("/users/me/passkeys", "get"),
        ("/users/me/passkeys/{passkey_id}", "patch"),
        ("/users/me/passkeys/{passkey_id}", "delete"),
        ("/auth/jwt/passkey/options", "post"),
        ("/auth/jwt/passkey", "post"),
        ("/auth/register/passkey/options", "post"),
        ("/auth/register/passkey", "post"),
        ("/auth/passkeys/client.js", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    let examples = doc["paths"]["/auth/jwt/passkey"]["post"]["responses"]["400"].to_string();
    for code in [
        "PASSKEY_CHALLENGE_INVALID",
        "PASSKEY_ORIGIN_MISMATCH",
        "PASSKEY_RP_ID_MISMATCH",
        "PASSKEY_USER_VERIFICATION_REQUIRED",
        "PASSKEY_INVALID",
        "LOGIN_BAD_CREDENTIALS",
    ] {
        assert!(examples.contains(code), "{code}: {examples}");
    }
    let client = pair
        .a
        .send(Method::GET, "/auth/passkeys/client.js", None, None)
        .await;
    assert_eq!(client.status, 200);
    assert_eq!(
        client.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
}

#[test]
fn misconfigured_passkeys_stop_build() {
    let build = |passkeys: Passkeys| {
        Warden::<User>::builder()
            .store(MemoryStore::new())
            .backend::<Jwt>()
            .unwrap()
            .passkeys(passkeys)
            .build()
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default()
    };
    let error = build(Passkeys::new("example.com", ["https://example.org"], "E").secret(SECRET));
    assert!(error.contains("not a registrable suffix"), "{error}");
    let error = build(Passkeys::new("10.0.0.1", ["https://10.0.0.1"], "E").secret(SECRET));
    assert!(error.contains("IP address"), "{error}");
    let error = build(Passkeys::new("example.com", Vec::<String>::new(), "E").secret(SECRET));
    assert!(error.contains("no origin"), "{error}");
}
