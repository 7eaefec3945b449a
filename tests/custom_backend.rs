//! The seams, used from outside the crate as an application would: its own
//! transport (a custom header) and its own strategy (opaque tokens in a server-side
//! table, which logout deletes), mounted with the same routes as a declared backend;
//! one backend's routes mounted alone; warden mounted under a prefix.

mod common;

use std::collections::HashMap;
use std::sync::Mutex;

use axum::Router;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{Http, Jwt, Reply, serve};
use reqwest::Method;
use serde_json::{Value, json};
use warden::{
    ApiError, Grant, Issued, MemoryStore, Strategy, StrategyError, TokenInfo, Transport,
    TransportDoc, User, Warden, async_trait, protected,
};

/// The token in `X-Session`; login answers `{"session": ...}`.
struct SessionHeader;

impl Transport for SessionHeader {
    fn token<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        let mut values = headers.get_all("x-session").iter();
        let token = values.next()?.to_str().ok()?;
        values.next().is_none().then_some(token)
    }

    fn login_response(&self, token: &str, expires_in: Option<u64>) -> Result<Response, ApiError> {
        Ok(axum::Json(json!({ "session": token, "expires_in": expires_in })).into_response())
    }

    fn logout_response(&self) -> Response {
        axum::Json(json!({ "ended": true })).into_response()
    }

    fn openapi(&self) -> TransportDoc {
        TransportDoc::Header("X-Session".into())
    }
}

/// Opaque random tokens, remembered server-side: FastAPI Users' database strategy in
/// miniature.
#[derive(Default)]
struct Sessions {
    live: Mutex<HashMap<String, String>>,
}

#[async_trait]
impl Strategy for Sessions {
    async fn read_token(&self, token: &str) -> Result<Option<TokenInfo>, StrategyError> {
        Ok(self.live.lock().unwrap().get(token).map(TokenInfo::new))
    }

    async fn write_token(&self, grant: &Grant<'_>) -> Result<Issued, StrategyError> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        self.live
            .lock()
            .unwrap()
            .insert(token.clone(), grant.subject.to_owned());
        Ok(Issued::new(token))
    }

    async fn destroy_token(&self, token: &str, _subject: &str) -> Result<(), StrategyError> {
        self.live.lock().unwrap().remove(token);
        Ok(())
    }

    fn lifetime(&self) -> Option<u64> {
        Some(600)
    }
}

#[protected(active)]
async fn whoami(user: User) -> String {
    user.email
}

fn warden() -> Warden {
    Warden::<User>::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .custom_backend("session", Sessions::default(), SessionHeader)
        .build()
        .unwrap()
}

async fn send_session(http: &Http, method: Method, path: &str, session: &str) -> Reply {
    Reply::read(
        http.client
            .request(method, format!("{}{path}", http.base))
            .header("x-session", session)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn an_application_transport_and_strategy_get_the_whole_pipeline() {
    let warden = warden();
    let app = Router::new()
        .route("/whoami", get(whoami))
        .merge(warden.routes())
        .with_state(warden);
    let http = Http::new(serve(app).await);
    let reply = http
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&json!({"email": "s@example.com", "password": "correct-horse"})),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);

    let login = Reply::read(
        http.client
            .post(format!("{}/auth/session/login", http.base))
            .form(&[("username", "s@example.com"), ("password", "correct-horse")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(login.status, 200, "{}", login.text);
    assert_eq!(login.header("cache-control"), Some("no-store"));
    assert_eq!(login.json()["expires_in"], 600);
    let session = login.json()["session"].as_str().unwrap().to_owned();

    // The guard, the users routes and refresh all read the application's header.
    let reply = send_session(&http, Method::GET, "/whoami", &session).await;
    assert_eq!((reply.status, reply.text.as_str()), (200, "s@example.com"));
    let reply = send_session(&http, Method::GET, "/users/me", &session).await;
    assert_eq!(reply.json()["email"], "s@example.com");
    let refreshed = send_session(&http, Method::POST, "/auth/session/refresh", &session).await;
    assert_eq!(refreshed.status, 200);
    let second = refreshed.json()["session"].as_str().unwrap().to_owned();
    assert_ne!(second, session);

    // A token of one backend is not read by the other's routes.
    let reply = send_session(&http, Method::POST, "/auth/jwt/logout", &session).await;
    assert_eq!(reply.status, 401);

    // Logout destroys the server-side session: the token is dead at once.
    let reply = send_session(&http, Method::POST, "/auth/session/logout", &session).await;
    assert_eq!((reply.status, reply.json()), (200, json!({"ended": true})));
    let reply = send_session(&http, Method::GET, "/whoami", &session).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json(), json!({"detail": "Unauthorized"}));
    let reply = send_session(&http, Method::GET, "/whoami", &second).await;
    assert_eq!(reply.status, 200);

    // The document shows the transport as it described itself.
    let doc = http
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .json();
    assert_eq!(
        doc["components"]["securitySchemes"]["APIKeyHeader"],
        json!({"type": "apiKey", "in": "header", "name": "X-Session"})
    );
    assert!(doc["paths"]["/auth/session/login"]["post"].is_object());
}

#[tokio::test]
async fn one_backend_mounts_alone() {
    let warden = warden();
    let app: Router = Jwt::routes(&warden);
    let http = Http::new(serve(app).await);
    warden
        .manager()
        .register(warden::UserCreate::new("correct-horse", ()).with_email("a@example.com"))
        .await
        .unwrap();
    let token = http.login("jwt", "a@example.com", "correct-horse").await;
    let reply = http
        .send(Method::POST, "/auth/jwt/refresh", Some(&token), None)
        .await;
    assert_eq!(reply.status, 200);
    for path in [
        "/auth/session/login",
        "/auth/register",
        "/users/me",
        "/docs",
    ] {
        let reply = http.send(Method::GET, path, None, None).await;
        assert_eq!(reply.status, 404, "{path}");
    }
}

#[tokio::test]
async fn warden_mounted_under_a_prefix_serves_its_routes_and_docs_there() {
    let warden = warden();
    let app = Router::new()
        .nest(
            "/api",
            Router::new()
                .route("/whoami", get(whoami))
                .merge(warden.routes()),
        )
        .with_state(warden);
    let root = serve(app).await;
    let http = Http::new(format!("{root}/api"));
    let reply = http
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&json!({"email": "p@example.com", "password": "correct-horse"})),
        )
        .await;
    assert_eq!(reply.status, 201);
    let token = http.login("jwt", "p@example.com", "correct-horse").await;
    let reply = http.send(Method::GET, "/whoami", Some(&token), None).await;
    assert_eq!(reply.text, "p@example.com");

    let doc = http
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .json();
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert!(paths.iter().all(|p| p.starts_with("/api/")), "{paths:?}");
    assert!(doc["paths"]["/api/users/me"]["get"].is_object());
    // Relative token URL: Swagger UI resolves it against /api/openapi.json.
    assert_eq!(
        doc["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"],
        "auth/jwt/login"
    );
    let page = http.send(Method::GET, "/docs", None, None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains(r#"src="docs/swagger-ui-bundle.js"#),
        "{}",
        page.text
    );
    let asset = http
        .send(Method::GET, "/docs/swagger-initializer.js", None, None)
        .await;
    assert!(asset.text.contains(r#"url: "openapi.json""#));
    // Nothing is served outside the prefix.
    let reply = Http::new(root)
        .send(Method::GET, "/openapi.json", None, None)
        .await;
    assert_eq!(reply.status, 404);
    let _ = Value::Null;
}
