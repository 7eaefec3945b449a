//! One macro-declared backend per algorithm family, each round-tripping through
//! login and a guarded route, plus the startup checks on keys.

mod common;

use serde_json::json;
use warden::{Algorithm, ConfigError, JwtStrategy, Lifetime, MemoryStore, Warden, auth_backend};

#[auth_backend(
    name = "hs384",
    lifetime = 600,
    algorithm = "HS384",
    secret = "a-literal-hs384-secret-of-at-least-forty-eight-bytes!!"
)]
pub struct Hs384;

#[auth_backend(name = "hs512", lifetime = 600, algorithm = "HS512",
               secret = file("fixtures/keys/hs512.secret"))]
pub struct Hs512;

#[auth_backend(name = "rs256", lifetime = 600, algorithm = "RS256",
               secret = file("fixtures/keys/rsa-private.pem"),
               public_key = file("fixtures/keys/rsa-public.pem"))]
pub struct Rs256;

#[auth_backend(name = "rs512", lifetime = 600, algorithm = "RS512",
               secret = file("fixtures/keys/rsa-private.pem"),
               public_key = file("fixtures/keys/rsa-public.pem"))]
pub struct Rs512;

#[auth_backend(name = "ps256", lifetime = 600, algorithm = "PS256",
               secret = file("fixtures/keys/rsa-private.pem"),
               public_key = file("fixtures/keys/rsa-public.pem"))]
pub struct Ps256;

#[auth_backend(name = "es256", lifetime = 600, algorithm = "ES256",
               secret = file("fixtures/keys/p256-private.pem"),
               public_key = file("fixtures/keys/p256-public.pem"))]
pub struct Es256;

#[auth_backend(name = "es384", lifetime = 600, algorithm = "ES384",
               secret = file("fixtures/keys/p384-private.pem"),
               public_key = file("fixtures/keys/p384-public.pem"))]
pub struct Es384;

#[auth_backend(name = "eddsa", lifetime = 600, algorithm = "EdDSA",
               secret = file("fixtures/keys/ed25519-private.pem"),
               public_key = file("fixtures/keys/ed25519-public.pem"),
               audience = ["my-app:auth", "fastapi-users:auth"])]
pub struct EdDsa;

#[tokio::test]
async fn every_family_round_trips_through_login_and_a_guarded_route() {
    let warden: Warden = Warden::builder()
        .store(MemoryStore::new())
        .backend::<common::Jwt>()
        .unwrap()
        .backend::<Hs384>()
        .unwrap()
        .backend::<Hs512>()
        .unwrap()
        .backend::<Rs256>()
        .unwrap()
        .backend::<Rs512>()
        .unwrap()
        .backend::<Ps256>()
        .unwrap()
        .backend::<Es256>()
        .unwrap()
        .backend::<Es384>()
        .unwrap()
        .backend::<EdDsa>()
        .unwrap()
        .build()
        .unwrap();
    let server = common::spawn_with(warden).await;
    let (status, _) = server.register("multi@example.com", "multi-password").await;
    assert_eq!(status, 201);
    for (name, alg) in [
        ("jwt", "HS256"),
        ("hs384", "HS384"),
        ("hs512", "HS512"),
        ("rs256", "RS256"),
        ("rs512", "RS512"),
        ("ps256", "PS256"),
        ("es256", "ES256"),
        ("es384", "ES384"),
        ("eddsa", "EdDSA"),
    ] {
        let response = server
            .client
            .post(server.url(&format!("/auth/{name}/login")))
            .form(&[
                ("username", "multi@example.com"),
                ("password", "multi-password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}");
        let body: serde_json::Value = response.json().await.unwrap();
        let token = body["access_token"].as_str().unwrap();
        let header = token.split('.').next().unwrap();
        let header: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
                .unwrap(),
        )
        .unwrap();
        // Public-key tokens name their key (its RFC 7638 thumbprint); HMAC ones do not.
        let expected = match server.warden.strategy(name).unwrap().kid() {
            Some(kid) => json!({"alg": alg, "typ": "JWT", "kid": kid}),
            None => {
                assert!(alg.starts_with("HS"), "{name}");
                json!({"alg": alg, "typ": "JWT"})
            }
        };
        assert_eq!(header, expected, "{name}");
        let (status, me) = server.get("/authenticated-route", Some(token)).await;
        assert_eq!(
            (status, me),
            (200, json!({"message": "Hello multi@example.com!"})),
            "{name}"
        );
        let refreshed = server
            .client
            .post(server.url(&format!("/auth/{name}/refresh")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(refreshed.status(), 200, "{name}");
        // A token of one backend is no good for another backend's logout.
        let other = if name == "jwt" { "rs256" } else { "jwt" };
        let logout = server
            .client
            .post(server.url(&format!("/auth/{other}/logout")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(logout.status(), 401, "{name} token on {other}");
    }
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(format!("fixtures/keys/{name}.pem")).unwrap()
}

fn build(
    alg: Algorithm,
    secret: Vec<u8>,
    public: Option<Vec<u8>>,
) -> Result<JwtStrategy, ConfigError> {
    let mut builder = JwtStrategy::builder(secret, Lifetime::Seconds(60)).algorithm(alg);
    if let Some(public) = public {
        builder = builder.public_key(public);
    }
    builder.build()
}

fn message(result: Result<JwtStrategy, ConfigError>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn bad_keys_stop_startup_with_a_message_naming_the_option() {
    let msg = message(build(
        Algorithm::RS256,
        pem("rsa-private"),
        Some(pem("rsa2-public")),
    ));
    assert!(
        msg.contains("option `public_key`") && msg.contains("not the public half"),
        "{msg}"
    );
    let msg = message(build(
        Algorithm::RS256,
        pem("rsa1024-private"),
        Some(pem("rsa1024-public")),
    ));
    assert!(
        msg.contains("option `secret`") && msg.contains("2048 bits"),
        "{msg}"
    );
    let msg = message(build(
        Algorithm::RS256,
        pem("p256-private"),
        Some(pem("p256-public")),
    ));
    assert!(
        msg.contains("option `secret`") && msg.contains("RSA private key"),
        "{msg}"
    );
    let msg = message(build(
        Algorithm::ES256,
        pem("p384-private"),
        Some(pem("p384-public")),
    ));
    assert!(msg.contains("option `secret`"), "{msg}");
    let msg = message(build(Algorithm::ES256, pem("p256-private"), None));
    assert!(
        msg.contains("option `public_key`") && msg.contains("needs a public key"),
        "{msg}"
    );
    let msg = message(build(
        Algorithm::HS256,
        b"x".repeat(32),
        Some(pem("rsa-public")),
    ));
    assert!(
        msg.contains("option `public_key`") && msg.contains("remove public_key"),
        "{msg}"
    );
    let msg = message(build(Algorithm::HS256, b"short".to_vec(), None));
    assert!(
        msg.contains("option `secret`") && msg.contains("at least 32 bytes"),
        "{msg}"
    );
    let msg = message(build(
        Algorithm::EdDSA,
        b"not a pem".to_vec(),
        Some(pem("ed25519-public")),
    ));
    assert!(msg.contains("Ed25519 private key"), "{msg}");
}

#[auth_backend(name = "missing", lifetime = 60, secret = env("WARDEN_TEST_UNSET_SECRET_VARIABLE"))]
pub struct MissingEnv;

#[auth_backend(name = "nofile", lifetime = 60, algorithm = "RS256",
               secret = file("fixtures/keys/does-not-exist.pem"),
               public_key = file("fixtures/keys/rsa-public.pem"))]
pub struct MissingFile;

#[test]
fn missing_env_and_files_stop_startup() {
    let err = Warden::<warden::User>::builder()
        .store(MemoryStore::new())
        .backend::<MissingEnv>()
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "backend `missing`: option `secret`: environment variable WARDEN_TEST_UNSET_SECRET_VARIABLE is not set; set it to a random secret, e.g. `export WARDEN_SECRET=$(openssl rand -base64 32)`, or to the PEM private key for asymmetric algorithms"
    );
    let err = MissingFile::strategy().unwrap_err().to_string();
    assert!(
        err.starts_with(
            "backend `nofile`: option `secret`: cannot read fixtures/keys/does-not-exist.pem"
        ),
        "{err}"
    );
}

#[test]
fn two_backends_with_one_name_fail_at_build() {
    let err = Warden::<warden::User>::builder()
        .store(MemoryStore::new())
        .backend::<common::Jwt>()
        .unwrap()
        .backend::<common::Jwt>()
        .unwrap()
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "two backends are named `jwt`: give each #[auth_backend(name = \"...\")] a distinct name"
    );
    let err = Warden::<warden::User>::builder()
        .backend::<common::Jwt>()
        .unwrap()
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("no user store"));
    let err = Warden::<warden::User>::builder()
        .store(MemoryStore::new())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("no authentication backend"));
}

#[test]
fn main_returning_the_error_prints_one_readable_line() {
    let err: warden::Error = MissingFile::strategy().unwrap_err().into();
    let debug = format!("{err:?}");
    assert!(
        !debug.contains('\n') && debug.starts_with("backend `nofile`"),
        "{debug}"
    );
}
