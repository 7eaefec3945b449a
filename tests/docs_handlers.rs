//! The application's own `#[protected]` handlers in `/docs`: one `#[utoipa::path]`
//! each, registered and documented by one utoipa-axum list, shown with the lock of
//! every backend and the guard's 401 and 403 answers.

mod common;

use common::{Http, Jwt, serve};
use reqwest::Method;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden::{MemoryStore, User, Warden, auth_backend, protected};

#[auth_backend(
    name = "cookie",
    lifetime = 3600,
    secret = "test-secret-that-is-at-least-32-bytes-long",
    transport = cookie(name = "auth")
)]
pub struct Cookie;

#[protected(active, superuser)]
#[utoipa::path(get, path = "/admin", responses((status = 200, description = "Hello, admin")))]
async fn admin(user: User) -> String {
    user.email
}

#[protected(optional)]
#[utoipa::path(get, path = "/maybe")]
async fn maybe(user: Option<User>) -> String {
    user.map(|u| u.email).unwrap_or_default()
}

/// Its own security requirement is kept.
#[protected(active)]
#[utoipa::path(get, path = "/own", security(("APIKeyCookie" = [])))]
async fn own() -> &'static str {
    "own"
}

#[tokio::test]
async fn protected_handlers_appear_with_the_lock_and_their_answers() {
    let (router, api) = OpenApiRouter::<Warden>::new()
        .routes(routes!(admin))
        .routes(routes!(maybe))
        .routes(routes!(own))
        .split_for_parts();
    let warden: Warden = Warden::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .backend::<Cookie>()
        .unwrap()
        .openapi(api)
        .build()
        .unwrap();
    // The route table lists them after warden's own.
    let table = warden.route_table();
    let admin_row = (
        "GET".to_owned(),
        "/admin".to_owned(),
        "#[protected(active, superuser)]".to_owned(),
    );
    assert!(table.contains(&admin_row), "{table:?}");
    assert_eq!(table[0].1, "/auth/jwt/login");
    let app = router.merge(warden.routes()).with_state(warden);
    let http = Http::new(serve(app).await);
    let doc = http
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .json();

    let admin = &doc["paths"]["/admin"]["get"];
    assert_eq!(
        admin["security"],
        json!([{"OAuth2PasswordBearer": []}, {"APIKeyCookie": []}])
    );
    assert_eq!(admin["responses"]["200"]["description"], "Hello, admin");
    assert_eq!(
        admin["responses"]["401"]["content"]["application/json"]["example"],
        json!({"detail": "Unauthorized"})
    );
    assert_eq!(
        admin["responses"]["403"]["description"],
        "The user is not a superuser."
    );

    let maybe = &doc["paths"]["/maybe"]["get"];
    assert_eq!(
        maybe["security"],
        json!([{"OAuth2PasswordBearer": []}, {"APIKeyCookie": []}, {}])
    );
    assert!(maybe["responses"].get("401").is_none());

    assert_eq!(
        doc["paths"]["/own"]["get"]["security"],
        json!([{"APIKeyCookie": []}])
    );
    // Warden's own routes are still there, and the guard still guards.
    assert!(doc["paths"]["/users/me"]["get"].is_object());
    let reply = http.send(Method::GET, "/admin", None, None).await;
    assert_eq!(reply.status, 401);
    let reply = http.send(Method::GET, "/maybe", None, None).await;
    assert_eq!((reply.status, reply.text.as_str()), (200, ""));
}
