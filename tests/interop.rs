//! Interoperability with FastAPI Users 15: its database, its password hashes and its
//! tokens (fixtures made by tests/fixtures/fastapi_users/make_fixtures.py with the real
//! FastAPI Users), and our tokens read by a standard JWT library.

mod common;

use serde_json::{Value, json};
use warden::{SqliteStore, Warden, auth_backend};

/// The backend a FastAPI Users app with `JWTStrategy(secret=SECRET, lifetime_seconds=3600)`
/// would have.
#[auth_backend(
    name = "jwt",
    lifetime = 3600,
    secret = "fastapi-users-interop-secret-0123456789abcdef"
)]
pub struct FastApiJwt;

/// The same secret, spelled out to accept FastAPI Users' never-expiring tokens.
#[auth_backend(name = "forever", lifetime = forever, secret = "fastapi-users-interop-secret-0123456789abcdef")]
pub struct Forever;

fn fixtures() -> Value {
    let text = std::fs::read_to_string("fixtures/fastapi_users/fixtures.json").unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A copy of FastAPI Users' database, opened by warden (which migrates it).
async fn server(dir: &tempfile::TempDir) -> common::Server {
    let path = dir.path().join("fastapi_users.db");
    std::fs::copy("fixtures/fastapi_users/fastapi_users.db", &path).unwrap();
    let store = SqliteStore::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let warden: Warden = Warden::builder()
        .store(store)
        .backend::<FastApiJwt>()
        .unwrap()
        .backend::<Forever>()
        .unwrap()
        .build()
        .unwrap();
    common::spawn_with(warden).await
}

fn token(fixtures: &Value, name: &str) -> String {
    fixtures["tokens"][name].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn fastapi_users_access_token_is_accepted_until_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    let fixtures = fixtures();
    let argon = &fixtures["users"][0];
    let (status, body) = server
        .get("/users/me", Some(&token(&fixtures, "access")))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"id": argon["id"], "email": "argon@example.com", "is_active": true,
               "is_superuser": false, "is_verified": false})
    );
}

#[tokio::test]
async fn fastapi_users_tokens_we_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    let fixtures = fixtures();
    // No exp: FastAPI Users accepts it forever; warden only under `lifetime = forever`.
    let no_exp = token(&fixtures, "access_without_exp");
    let strategy = server.warden.strategy("jwt").unwrap();
    assert_eq!(
        strategy.verify(&no_exp).unwrap_err(),
        warden::TokenError::MissingClaim("exp")
    );
    assert!(
        server
            .warden
            .strategy("forever")
            .unwrap()
            .verify(&no_exp)
            .is_ok()
    );
    // A reset token is never an access token; a token for no user is a 401.
    for name in ["reset_audience", "unknown_user"] {
        let response = server
            .client
            .get(server.url("/users/me"))
            .bearer_auth(token(&fixtures, name))
            .header("x-case", name)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{name}");
    }
}

#[tokio::test]
async fn fastapi_users_passwords_log_in_and_bcrypt_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    let store = server.warden.manager().store().clone();

    // argon2id with FastAPI Users' parameters: verified, then re-hashed with ours.
    let before = store
        .get_by_email("argon@example.com")
        .await
        .unwrap()
        .unwrap();
    let (status, _) = server.login("ARGON@example.com", "argon-password-1").await;
    assert_eq!(status, 200);
    let after = store
        .get_by_email("argon@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(
        before
            .hashed_password
            .starts_with("$argon2id$v=19$m=65536,t=3,p=4$")
    );
    assert!(
        after
            .hashed_password
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );

    // bcrypt (pwdlib): verified, then re-hashed as argon2id, and still works.
    let before = store
        .get_by_email("bcrypt.user@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(before.hashed_password.starts_with("$2b$12$"));
    let (status, _) = server
        .login("bcrypt.user@EXAMPLE.com", "bcrypt-password-1")
        .await;
    assert_eq!(status, 200);
    let after = store
        .get_by_email("bcrypt.user@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(
        after
            .hashed_password
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    let (status, _) = server
        .login("Bcrypt.User@example.com", "bcrypt-password-1")
        .await;
    assert_eq!(status, 200);
    let (status, body) = server
        .login("Bcrypt.User@example.com", "bcrypt-password-2")
        .await;
    assert_eq!(
        (status, body),
        (400, json!({"detail": "LOGIN_BAD_CREDENTIALS"}))
    );

    // Inactive: the same answer as a wrong password.
    let (status, body) = server
        .login("inactive@example.com", "inactive-password-1")
        .await;
    assert_eq!(
        (status, body),
        (400, json!({"detail": "LOGIN_BAD_CREDENTIALS"}))
    );
}

#[tokio::test]
async fn fastapi_users_database_takes_new_registrations_with_unique_emails() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    let (status, body) = server
        .register("argon@EXAMPLE.com", "another-password")
        .await;
    assert_eq!(
        (status, body),
        (400, json!({"detail": "REGISTER_USER_ALREADY_EXISTS"}))
    );
    let token = server.user_token("new@example.com", "new-password-1").await;
    let (status, body) = server.get("/users/me", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(body["email"], "new@example.com");
}

#[tokio::test]
async fn our_tokens_pass_a_standard_jwt_librarys_claim_checks() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    let (_, body) = server.login("argon@example.com", "argon-password-1").await;
    let token = body["access_token"].as_str().unwrap();

    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&["fastapi-users:auth"]);
    validation.set_required_spec_claims(&["exp", "sub", "aud", "iat"]);
    validation.validate_nbf = true;
    validation.leeway = 0;
    let key =
        jsonwebtoken::DecodingKey::from_secret(fixtures()["secret"].as_str().unwrap().as_bytes());
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).unwrap();
    let claims = data.claims;
    assert_eq!(claims["sub"], fixtures()["users"][0]["id"]);
    assert_eq!(claims["aud"], json!(["fastapi-users:auth"]));
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 3600);
    assert_eq!(claims["jti"].as_str().unwrap().len(), 32);
    assert_eq!(data.header.typ.as_deref(), Some("JWT"));
}

/// FastAPI Users' `user` table as its SQLAlchemy model creates it on PostgreSQL (the
/// `GUID` type is a native `UUID` there), holding the fixture users with the hashes
/// FastAPI Users wrote: warden opens it as is, its users log in, its tokens are
/// accepted, and a bcrypt hash is upgraded in place.
#[tokio::test]
async fn a_fastapi_users_postgres_database_opens_as_is() {
    let Some((url, options)) =
        common::postgres("a_fastapi_users_postgres_database_opens_as_is").await
    else {
        return;
    };
    let pg = sqlx::postgres::PgPoolOptions::new()
        .connect_with(options.clone())
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE TABLE \"user\" (
            id UUID NOT NULL,
            email VARCHAR(320) NOT NULL,
            hashed_password VARCHAR(1024) NOT NULL,
            is_active BOOLEAN NOT NULL,
            is_superuser BOOLEAN NOT NULL,
            is_verified BOOLEAN NOT NULL,
            PRIMARY KEY (id)
        );
        CREATE UNIQUE INDEX ix_user_email ON \"user\" (email);",
    )
    .execute(&pg)
    .await
    .unwrap();
    let sqlite =
        sqlx::SqlitePool::connect("sqlite://fixtures/fastapi_users/fastapi_users.db?mode=ro")
            .await
            .unwrap();
    let rows: Vec<(String, String, String, bool, bool, bool)> = sqlx::query_as(
        "SELECT id, email, hashed_password, is_active, is_superuser, is_verified FROM \"user\"",
    )
    .fetch_all(&sqlite)
    .await
    .unwrap();
    assert!(!rows.is_empty());
    for (id, email, hash, active, superuser, verified) in rows {
        // FastAPI Users stores UUIDs without dashes in SQLite's CHAR(32)/CHAR(36).
        let id = uuid::Uuid::parse_str(&id).unwrap();
        sqlx::query("INSERT INTO \"user\" VALUES ($1::uuid, $2, $3, $4, $5, $6)")
            .bind(id.to_string())
            .bind(email)
            .bind(hash)
            .bind(active)
            .bind(superuser)
            .bind(verified)
            .execute(&pg)
            .await
            .unwrap();
    }

    let store = warden::PostgresStore::connect_with(options, &url)
        .await
        .unwrap();
    let warden: Warden = Warden::builder()
        .store(store)
        .backend::<FastApiJwt>()
        .unwrap()
        .build()
        .unwrap();
    let server = common::spawn_with(warden).await;
    let fixtures = fixtures();
    let (status, body) = server
        .get("/users/me", Some(&token(&fixtures, "access")))
        .await;
    assert_eq!((status, &body["id"]), (200, &fixtures["users"][0]["id"]));
    for user in fixtures["users"].as_array().unwrap() {
        let (status, _) = server
            .login(
                user["email"].as_str().unwrap(),
                user["password"].as_str().unwrap(),
            )
            .await;
        let expected = if user["is_active"] == true { 200 } else { 400 };
        assert_eq!(status, expected, "{user}");
    }
    let bcrypt = &fixtures["users"][1];
    let (hash,): (String,) =
        sqlx::query_as("SELECT hashed_password FROM \"user\" WHERE id = $1::uuid")
            .bind(bcrypt["id"].as_str().unwrap())
            .fetch_one(&pg)
            .await
            .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}
