//! Key rotation with JWKS, end to end over real HTTP: an RS256 backend publishes the
//! next key, switches signing to it, then retires the previous one; tokens carry the
//! signing key's `kid` (its RFC 7638 thumbprint) and are verified by the configured
//! key that `kid` names, never by one the token brings.

mod common;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Http, serve};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use warden::{MemoryStore, User, UserStore, Warden, auth_backend};

const KEYS: &str = "fixtures/keys";

/// Step 1, publish the next key: the current key signs, the next one is published
/// and accepted beside it.
#[auth_backend(name = "rsa", lifetime = 900, algorithm = "RS256",
               secret = file("fixtures/keys/rsa-private.pem"),
               public_key = file("fixtures/keys/rsa-public.pem"),
               verify_keys = [file("fixtures/keys/rsa2-public.pem")])]
struct Publish;

/// Step 2, switch signing: the next key signs; the previous one still verifies the
/// tokens it signed.
#[auth_backend(name = "rsa", lifetime = 900, algorithm = "RS256",
               secret = file("fixtures/keys/rsa2-private.pem"),
               public_key = file("fixtures/keys/rsa2-public.pem"),
               verify_keys = [file("fixtures/keys/rsa-public.pem")])]
struct Switch;

/// Step 3, retire the previous key, once the longest token it signed has expired.
#[auth_backend(name = "rsa", lifetime = 900, algorithm = "RS256",
               secret = file("fixtures/keys/rsa2-private.pem"),
               public_key = file("fixtures/keys/rsa2-public.pem"))]
struct Retire;

async fn server<B: warden::AuthBackend>(store: &Arc<dyn UserStore<User>>) -> Http {
    let warden: Warden = Warden::builder()
        .shared_store(Arc::clone(store))
        .backend::<B>()
        .unwrap()
        .build()
        .unwrap();
    Http::new(serve(warden.routes().with_state(warden)).await)
}

/// The `kid` in a token's header.
fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

/// RFC 7638 §3: SHA-256 over `{"e","kty","n"}` in lexicographic order, no spaces.
fn thumbprint(jwk: &Value) -> String {
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        jwk["e"].as_str().unwrap(),
        jwk["n"].as_str().unwrap()
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The JWKS document's keys, checked for what a public document may hold.
async fn jwks(http: &Http) -> Vec<Value> {
    let reply = http
        .send(Method::GET, "/.well-known/jwks.json", None, None)
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
    let keys = reply.json()["keys"].as_array().unwrap().clone();
    for key in &keys {
        let mut members: Vec<&str> = key
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        members.sort_unstable();
        // Nothing private: no d, p, q, dp, dq, qi (RFC 7518 §6.3.2).
        assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"], "{key}");
        assert_eq!(key["alg"], "RS256");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["kid"], thumbprint(key).as_str());
    }
    keys
}

async fn me(http: &Http, token: &str) -> u16 {
    http.send(Method::GET, "/users/me", Some(token), None)
        .await
        .status
}

#[tokio::test]
async fn publish_switch_retire() {
    let store: Arc<dyn UserStore<User>> = Arc::new(MemoryStore::new());
    let publish = server::<Publish>(&store).await;
    let reply = publish
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&json!({"email": "kay@camelot.org", "password": "seneschal"})),
        )
        .await;
    assert_eq!(reply.status, 201);

    // 1. Publish: the current key signs; both are published, current first.
    let keys = jwks(&publish).await;
    assert_eq!(keys.len(), 2);
    let (current, next) = (
        keys[0]["kid"].as_str().unwrap().to_owned(),
        keys[1]["kid"].as_str().unwrap().to_owned(),
    );
    let old_token = publish.login("rsa", "kay@camelot.org", "seneschal").await;
    assert_eq!(kid_of(&old_token), current);
    assert_eq!(me(&publish, &old_token).await, 200);

    // 2. Switch: the next key signs; the old token still works, and an instance
    // not yet switched accepts the new tokens (rolling restarts).
    let switch = server::<Switch>(&store).await;
    let keys = jwks(&switch).await;
    assert_eq!(
        keys.iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [next.as_str(), current.as_str()]
    );
    let new_token = switch.login("rsa", "kay@camelot.org", "seneschal").await;
    assert_eq!(kid_of(&new_token), next);
    assert_eq!(me(&switch, &old_token).await, 200);
    assert_eq!(me(&switch, &new_token).await, 200);
    assert_eq!(me(&publish, &new_token).await, 200);

    // 3. Retire: only the new key is left; the old token is refused.
    let retire = server::<Retire>(&store).await;
    let keys = jwks(&retire).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kid"], next.as_str());
    assert_eq!(me(&retire, &new_token).await, 200);
    assert_eq!(me(&retire, &old_token).await, 401);
}

/// A token's `kid` chooses among the configured keys only: relabelling a token
/// signed by one key with the other's kid, or naming a key we do not have, never
/// makes a signature verify.
#[tokio::test]
async fn kid_only_selects_among_configured_keys() {
    let store: Arc<dyn UserStore<User>> = Arc::new(MemoryStore::new());
    let switch = server::<Switch>(&store).await;
    let retire = server::<Retire>(&store).await;
    switch
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&json!({"email": "bors@camelot.org", "password": "grail-knight"})),
        )
        .await;
    let old_key = Publish::strategy().unwrap();
    let user = store
        .get_by_email("bors@camelot.org")
        .await
        .unwrap()
        .unwrap();
    // Signed by the previous key, which `Switch` still verifies.
    let token = old_key.issue(&user.id.to_string()).unwrap();
    assert_eq!(me(&switch, &token).await, 200);
    // Signed by the previous key but naming the current key's kid: the kid picks
    // the current key alone, which does not verify it (no key is tried after another).
    let next_kid = Switch::strategy().unwrap().kid().unwrap().to_owned();
    let mislabelled = sign_with_old_key(&user.id.to_string(), Some(&next_kid));
    assert_eq!(me(&switch, &mislabelled).await, 401);
    // Naming its own key's kid, it verifies.
    let labelled = sign_with_old_key(&user.id.to_string(), Some(&kid_of(&token)));
    assert_eq!(me(&switch, &labelled).await, 200);
    // A kid we never configured falls back to the signing key (the current one):
    // nothing is fetched, and the previous key's signature does not verify.
    let foreign = sign_with_old_key(&user.id.to_string(), Some("https://attacker.example/k"));
    assert_eq!(me(&switch, &foreign).await, 401);
    // Once retired, the previous key's tokens fail whatever their kid.
    assert_eq!(me(&retire, &token).await, 401);
    assert_eq!(me(&retire, &labelled).await, 401);
}

/// A token for `sub` signed by the previous key (`rsa-private.pem`) with this
/// header `kid`, as anyone holding that key could make.
fn sign_with_old_key(sub: &str, kid: Option<&str>) -> String {
    let pem = std::fs::read(format!("{KEYS}/rsa-private.pem")).unwrap();
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    let claims = json!({
        "sub": sub,
        "aud": ["fastapi-users:auth"],
        "exp": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 600,
    });
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

#[tokio::test]
async fn hmac_backends_publish_nothing_and_refuse_verify_keys() {
    let warden: Warden = Warden::builder()
        .store(MemoryStore::new())
        .backend::<common::Jwt>()
        .unwrap()
        .build()
        .unwrap();
    assert!(warden.jwks().keys.is_empty());
    let http = Http::new(serve(warden.routes().with_state(warden)).await);
    let reply = http
        .send(Method::GET, "/.well-known/jwks.json", None, None)
        .await;
    assert_eq!(reply.status, 404);

    let public = std::fs::read(format!("{KEYS}/rsa-public.pem")).unwrap();
    let error = warden::JwtStrategy::builder(
        "a-secret-of-at-least-thirty-two-bytes",
        warden::Lifetime::Seconds(60),
    )
    .verify_key(public)
    .build()
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        "backend `jwt`: option `verify_keys`: HS256 has no public keys to rotate: verify_keys needs an RS, PS, ES or EdDSA algorithm"
    );
}

#[tokio::test]
async fn the_jwks_route_is_documented() {
    let store: Arc<dyn UserStore<User>> = Arc::new(MemoryStore::new());
    let http = server::<Publish>(&store).await;
    let doc = http
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .json();
    let operation = &doc["paths"]["/.well-known/jwks.json"]["get"];
    assert_eq!(
        operation["operationId"],
        "jwks_keys__well_known_jwks_json_get"
    );
    assert!(doc["components"]["schemas"]["JwkSet"].is_object());
}
