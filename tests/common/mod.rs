//! Shared test support: a real server on 127.0.0.1 with an ephemeral port.
#![allow(dead_code, unused_macros)]

/// Runs a flow on every store a test file can open: `on_every_store!(name, flow)`
/// makes the tests `name::memory`, `name::sqlite` and `name::postgres`;
/// `on_both_stores!(name, flow)` only the last two. The file defines `memory()`,
/// `sqlite(&dir)` and `postgres(test)` (`None` when no PostgreSQL is configured),
/// each answering what `flow` takes by reference. Needs `#[macro_use] mod common;`.
macro_rules! on_every_store {
    ($name:ident, $flow:ident) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                $flow(&super::memory().await).await;
            }

            on_database_stores!($name, $flow);
        }
    };
}

/// [`on_every_store`] without the memory store.
macro_rules! on_both_stores {
    ($name:ident, $flow:ident) => {
        mod $name {
            use super::*;

            on_database_stores!($name, $flow);
        }
    };
}

/// The SQLite and PostgreSQL tests of [`on_every_store`], inside its module.
macro_rules! on_database_stores {
    ($name:ident, $flow:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sqlite() {
            let dir = tempfile::tempdir().unwrap();
            $flow(&super::sqlite(&dir).await).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres() {
            let test = concat!(stringify!($name), "::postgres");
            let Some(app) = super::postgres(test).await else {
                return;
            };
            $flow(&app).await;
        }
    };
}

pub mod authenticator;
pub mod events;
pub mod github;
pub mod oauth;
pub mod served;
pub mod totp;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use warden::{MemoryStore, User, Warden, auth_backend, protected};

/// The HS256 secret of [`Jwt`]; tests that forge tokens sign with it.
pub const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

/// The backend most tests use: HS256, one hour.
#[auth_backend(
    name = "jwt",
    lifetime = 3600,
    secret = "test-secret-that-is-at-least-32-bytes-long"
)]
pub struct Jwt;

#[protected(active)]
pub async fn authenticated_route(user: User) -> Json<Value> {
    Json(json!({ "message": format!("Hello {}!", user.email) }))
}

#[protected(active, verified)]
pub async fn verified_route(user: User) -> Json<Value> {
    Json(json!({ "message": format!("Hello {}, you are verified!", user.email) }))
}

#[protected(active, superuser)]
pub async fn superuser_route(user: User) -> Json<Value> {
    Json(json!({ "message": format!("Hello {}, you are a superuser!", user.email) }))
}

#[protected(optional)]
pub async fn optional_route(user: Option<User>) -> Json<Value> {
    let message = match user {
        Some(user) => format!("Hello {}!", user.email),
        None => "Hello anonymous!".to_owned(),
    };
    Json(json!({ "message": message }))
}

/// A running server.
pub struct Server {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub client: reqwest::Client,
    pub warden: Warden,
}

/// Serves `app` on an ephemeral port and returns its base URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

/// The demo routes of the quickstart plus warden's routes.
pub fn app(warden: &Warden) -> Router {
    Router::new()
        .route("/authenticated-route", get(authenticated_route))
        .route("/verified-route", get(verified_route))
        .route("/superuser-route", get(superuser_route))
        .route("/optional-route", get(optional_route))
        .merge(warden.routes())
        .with_state(warden.clone())
}

/// A server with the [`Jwt`] backend over an in-memory store.
pub async fn spawn() -> Server {
    let warden: Warden = Warden::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .build()
        .unwrap();
    spawn_with(warden).await
}

/// A server for a configured warden, with the demo routes.
pub async fn spawn_with(warden: Warden) -> Server {
    let base = serve(app(&warden)).await;
    Server {
        base,
        client: reqwest::Client::new(),
        warden,
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /auth/register` with JSON; returns (status, body).
    pub async fn register(&self, email: &str, password: &str) -> (u16, Value) {
        let response = self
            .client
            .post(self.url("/auth/register"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `POST /auth/jwt/login` with the OAuth2 form; returns (status, body).
    pub async fn login(&self, username: &str, password: &str) -> (u16, Value) {
        let body = format!(
            "username={}&password={}",
            urlencode(username),
            urlencode(password)
        );
        let response = self
            .client
            .post(self.url("/auth/jwt/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Registers and logs in; returns the access token.
    pub async fn user_token(&self, email: &str, password: &str) -> String {
        let (status, body) = self.register(email, password).await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = self.login(email, password).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// `GET path` with an optional bearer token; returns (status, body).
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Sets flags on a stored user directly (what an admin route will do later).
    pub async fn set_flags(&self, email: &str, active: bool, verified: bool, superuser: bool) {
        let store = self.warden.manager().store();
        let mut user = store.get_by_email(email).await.unwrap().unwrap();
        user.is_active = active;
        user.is_verified = verified;
        user.is_superuser = superuser;
        store.update(user).await.unwrap();
    }
}

/// application/x-www-form-urlencoded encoding of one value.
pub fn urlencode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A response, read whole.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    /// Reads status, headers and body.
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        Self {
            status,
            headers,
            text,
        }
    }

    /// The body as JSON (panics, showing the body, if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    /// One header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// The challenge of a 401 to a request that carried no credential (RFC 6750 §3.1:
/// no error code).
pub const NO_CREDENTIAL: &str = "Bearer";
/// The challenge of a 401 to a request whose credential was refused (RFC 6750 §3.1).
pub const INVALID_TOKEN: &str = r#"Bearer error="invalid_token""#;

/// A 401 `{"detail": "Unauthorized"}` (FastAPI Users' body) to a request that
/// carried no credential: the bare `Bearer` challenge.
#[track_caller]
pub fn assert_unauthorized(reply: &Reply) {
    assert_eq!(reply.status, 401, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "Unauthorized"}));
    assert_eq!(reply.header("www-authenticate"), Some(NO_CREDENTIAL));
}

/// A 401 `{"detail": "Unauthorized"}` to a request whose credential was refused
/// (malformed, expired, revoked, of an unknown or inactive user): the challenge
/// names `invalid_token`, so an OAuth2 client signs in again.
#[track_caller]
pub fn assert_token_refused(reply: &Reply) {
    assert_eq!(reply.status, 401, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "Unauthorized"}));
    assert_eq!(reply.header("www-authenticate"), Some(INVALID_TOKEN));
}

/// A 403 `{"detail": "Forbidden"}` (FastAPI Users' body): the user is known and
/// may not, so no challenge a client could answer.
#[track_caller]
pub fn assert_forbidden(reply: &Reply) {
    assert_eq!(reply.status, 403, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "Forbidden"}));
    assert_eq!(reply.header("www-authenticate"), None);
}

/// The 401 to a request that sent `token` as its bearer credential, or none:
/// [`assert_token_refused`] or [`assert_unauthorized`].
#[track_caller]
pub fn assert_unauthorized_with(reply: &Reply, token: Option<&str>) {
    match token {
        Some(_) => assert_token_refused(reply),
        None => assert_unauthorized(reply),
    }
}

/// A client for a server of any user model: requests by method, path, token and
/// JSON body, each read whole.
pub struct Http {
    /// `http://127.0.0.1:PORT`, plus the mount prefix if any.
    pub base: String,
    pub client: reqwest::Client,
}

impl Http {
    /// A client for the app served at `base`.
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into(),
            client: reqwest::Client::new(),
        }
    }

    /// A client for the app at `base` that keeps cookies, as a browser does.
    pub fn browser(base: impl Into<String>) -> Self {
        Self {
            base: base.into(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
        }
    }

    /// `method path`, with a bearer token and a JSON body if given.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        Reply::read(request.send().await.unwrap()).await
    }

    /// `POST /auth/register` with an e-mail and password; asserts the 201 and returns
    /// the new user's id.
    pub async fn register(&self, email: &str, password: &str) -> String {
        let reply = self
            .send(
                reqwest::Method::POST,
                "/auth/register",
                None,
                Some(&json!({ "email": email, "password": password })),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()["id"].as_str().unwrap().to_owned()
    }

    /// `GET /users/me` with a bearer token.
    pub async fn me(&self, token: &str) -> Reply {
        self.send(reqwest::Method::GET, "/users/me", Some(token), None)
            .await
    }

    /// `PATCH /users/me` setting a new password; asserts the 200.
    pub async fn change_password(&self, token: &str, password: &str) {
        let reply = self
            .send(
                reqwest::Method::PATCH,
                "/users/me",
                Some(token),
                Some(&json!({ "password": password })),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }

    /// `POST /auth/{backend}/login` with the OAuth2 form; the access token.
    pub async fn login(&self, backend: &str, username: &str, password: &str) -> String {
        let reply = Reply::read(
            self.client
                .post(format!("{}/auth/{backend}/login", self.base))
                .form(&[("username", username), ("password", password)])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()["access_token"].as_str().unwrap().to_owned()
    }
}

/// A PostgreSQL schema of its own for one test, on the server named by
/// `WARDEN_TEST_POSTGRES_URL` (`bash .ci/run` starts one). `None`, with a line saying
/// the test was skipped, when the variable is unset; a panic instead when
/// `WARDEN_REQUIRE_POSTGRES=1` (CI), so CI never skips them.
pub async fn postgres(test: &str) -> Option<(String, sqlx::postgres::PgConnectOptions)> {
    let Ok(url) = std::env::var("WARDEN_TEST_POSTGRES_URL") else {
        if std::env::var("WARDEN_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            panic!("{test}: WARDEN_REQUIRE_POSTGRES=1 but WARDEN_TEST_POSTGRES_URL is unset");
        }
        // Straight to stderr, past the test harness's capture, so the skip shows.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {test} needs WARDEN_TEST_POSTGRES_URL, a PostgreSQL database it may use \
             (`eval \"$(bash .ci/postgres-setup.sh)\"` starts one; `bash .ci/run` does it all)"
        );
        return None;
    };
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    Some((url, options.options([("search_path", schema.as_str())])))
}

/// The Redis server named by `WARDEN_TEST_REDIS_URL` (`bash .ci/run` starts one).
/// `None`, with a line saying the test was skipped, when the variable is unset; a
/// panic instead when `WARDEN_REQUIRE_REDIS=1` (CI), so CI never skips them.
pub fn redis(test: &str) -> Option<String> {
    let Ok(url) = std::env::var("WARDEN_TEST_REDIS_URL") else {
        if std::env::var("WARDEN_REQUIRE_REDIS").as_deref() == Ok("1") {
            panic!("{test}: WARDEN_REQUIRE_REDIS=1 but WARDEN_TEST_REDIS_URL is unset");
        }
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {test} needs WARDEN_TEST_REDIS_URL, a Redis server it may use \
             (`eval \"$(bash .ci/redis-setup.sh)\"` starts one; `bash .ci/run` does it all)"
        );
        return None;
    };
    Some(url)
}

/// Polls `seen` every millisecond until it holds, for at most 2 s, and prints and
/// returns how long that took: another instance hears of a change through
/// PostgreSQL's notification, a few milliseconds later.
pub async fn until_seen(what: &str, mut seen: impl AsyncFnMut() -> bool) -> std::time::Duration {
    let start = std::time::Instant::now();
    while !seen().await {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "not seen within 2 s: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let delay = start.elapsed();
    eprintln!("{what}: seen after {delay:?}");
    delay
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The claims of a JWT, unverified (its payload, base64url-decoded).
pub fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Raw SQL on a test store's database, beside the store (to read or alter what it
/// keeps). Statements are written inline, without placeholders, so one text serves
/// both databases.
#[derive(Clone)]
pub enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Db {
    /// Runs a statement; the number of rows it changed.
    pub async fn execute(&self, sql: &str) -> u64 {
        match self {
            Db::Sqlite(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .unwrap()
                .rows_affected(),
            Db::Postgres(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .unwrap()
                .rows_affected(),
        }
    }

    /// The first column of every row, as text.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        match self {
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        }
    }

    /// One integer (a count, a BIGINT column; `None` for SQL NULL).
    pub async fn integer(&self, sql: &str) -> Option<i64> {
        match self {
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        }
    }
}

/// The OpenID provider named by `WARDEN_TEST_OIDC_ISSUER` (`bash .ci/run` starts
/// `oidc-provider` from npm: `.ci/oidc-setup.sh`). `None`, with a line saying the
/// test was skipped, when the variable is unset; a panic instead when
/// `WARDEN_REQUIRE_OIDC=1` (CI).
pub fn oidc(test: &str) -> Option<String> {
    let Ok(issuer) = std::env::var("WARDEN_TEST_OIDC_ISSUER") else {
        if std::env::var("WARDEN_REQUIRE_OIDC").as_deref() == Ok("1") {
            panic!("{test}: WARDEN_REQUIRE_OIDC=1 but WARDEN_TEST_OIDC_ISSUER is unset");
        }
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {test} needs WARDEN_TEST_OIDC_ISSUER, an OpenID provider it may use \
             (`eval \"$(bash .ci/oidc-setup.sh)\"` starts one; `bash .ci/run` does it all)"
        );
        return None;
    };
    Some(issuer)
}
