//! FastAPI's JWT tutorial, rebuilt as `examples/tutorial.rs`: the tutorial's own
//! three tests with the same requests and assertions, over real HTTP against the
//! example's router, on SQLite and PostgreSQL; then what its `/docs` promises.

#[path = "../examples/tutorial.rs"]
mod tutorial;

mod common;

use common::{Http, serve};
use reqwest::Method;
use serde_json::{Value, json};
use warden::SqliteStore;

/// The example's app over a fresh SQLite file, served; the directory lives as long
/// as the client.
async fn sqlite_app() -> (Http, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tutorial.db").display());
    let app = tutorial::app(SqliteStore::open(&url).await.unwrap())
        .await
        .unwrap();
    (Http::new(serve(app).await), dir)
}

async fn login_json(http: &Http, username: &str, password: &str) -> common::Reply {
    http.send(
        Method::POST,
        "/login",
        None,
        Some(&json!({"username": username, "password": password})),
    )
    .await
}

/// The tutorial's `test_login_and_access`.
async fn login_and_access(http: &Http) {
    let response = login_json(http, "admin", "secret").await;
    assert_eq!(response.status, 200, "{}", response.text);
    let data = response.json();
    assert!(data.get("access_token").is_some());
    assert_eq!(data["token_type"], "bearer");
    let token = data["access_token"].as_str().unwrap();

    let response = http.send(Method::GET, "/users/me", Some(token), None).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["user"], "admin");
    assert_eq!(response.json(), json!({"user": "admin"}));
}

/// The tutorial's `test_login_invalid_credentials`.
async fn login_invalid_credentials(http: &Http) {
    let response = login_json(http, "admin", "wrong").await;
    assert_eq!(response.status, 400);
    assert_eq!(response.json()["detail"], "Invalid credentials");
    assert_eq!(response.json(), json!({"detail": "Invalid credentials"}));
    // An unknown user gets the same answer.
    let response = login_json(http, "nobody", "secret").await;
    assert_eq!(response.status, 400);
    assert_eq!(response.json(), json!({"detail": "Invalid credentials"}));
}

/// The tutorial's `test_access_without_token`.
async fn access_without_token(http: &Http) {
    let response = http.send(Method::GET, "/users/me", None, None).await;
    assert_eq!(response.status, 401);
    assert_eq!(response.json(), json!({"detail": "Unauthorized"}));
}

#[tokio::test]
async fn test_login_and_access() {
    let (http, _dir) = sqlite_app().await;
    login_and_access(&http).await;
}

#[tokio::test]
async fn test_login_invalid_credentials() {
    let (http, _dir) = sqlite_app().await;
    login_invalid_credentials(&http).await;
}

#[tokio::test]
async fn test_access_without_token() {
    let (http, _dir) = sqlite_app().await;
    access_without_token(&http).await;
}

#[tokio::test]
async fn the_tutorial_tests_pass_on_postgres() {
    let Some((url, options)) = common::postgres("the_tutorial_tests_pass_on_postgres").await else {
        return;
    };
    let store = warden::PostgresStore::connect_with(options, &url)
        .await
        .unwrap();
    let http = Http::new(serve(tutorial::app(store).await.unwrap()).await);
    login_and_access(&http).await;
    login_invalid_credentials(&http).await;
    access_without_token(&http).await;
}

#[tokio::test]
async fn swagger_uis_authorize_form_logs_in_and_usernames_ignore_case() {
    let (http, _dir) = sqlite_app().await;
    // Swagger UI's Authorize posts the OAuth2 password form to tokenUrl.
    let token = http
        .client
        .post(format!("{}/login", http.base))
        .form(&[("username", "ADMIN"), ("password", "secret")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    let token: Value = token.json().await.unwrap();
    let me = http
        .send(
            Method::GET,
            "/users/me",
            token["access_token"].as_str(),
            None,
        )
        .await;
    assert_eq!(me.json(), json!({"user": "admin"}));
    // The password is case-sensitive.
    assert_eq!(login_json(&http, "admin", "SECRET").await.status, 400);
}

#[tokio::test]
async fn seeding_again_keeps_the_user_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tutorial.db").display());
    for _ in 0..2 {
        let store = SqliteStore::<tutorial::Member>::open(&url).await.unwrap();
        let http = Http::new(serve(tutorial::app(store).await.unwrap()).await);
        login_and_access(&http).await;
    }
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM \"user\"")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    let (hash,): (String,) = sqlx::query_as("SELECT hashed_password FROM \"user\"")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$"),
        "seeded passwords are hashed"
    );
}

#[tokio::test]
async fn the_docs_show_the_tutorials_routes_and_answers() {
    let (http, _dir) = sqlite_app().await;
    let doc = http.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/auth/jwt/logout",
            "/auth/jwt/reauthenticate",
            "/auth/jwt/refresh",
            "/login",
            "/users/me"
        ]
    );
    // Authorize posts to the tutorial's tokenUrl="login".
    assert_eq!(
        doc["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"],
        "login"
    );
    let example = &doc["paths"]["/login"]["post"]["responses"]["400"]["content"]["application/json"]
        ["examples"]["LOGIN_BAD_CREDENTIALS"]["value"];
    assert_eq!(example, &json!({"detail": "Invalid credentials"}));
    // The application's own /users/me, guarded.
    let me = &doc["paths"]["/users/me"]["get"];
    assert_eq!(me["security"], json!([{"OAuth2PasswordBearer": []}]));
    assert!(me["responses"]["401"].is_object());
    // Neither registration nor the users router: their schemas are not shown.
    assert!(doc["components"]["schemas"].get("UserCreate").is_none());
    let docs = http.send(Method::GET, "/docs", None, None).await;
    assert_eq!(docs.status, 200);
}
