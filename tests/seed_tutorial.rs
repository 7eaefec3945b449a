//! The seed tutorial's three tests (the FastAPI JWT tutorial's own tests), over real HTTP.

mod common;

#[tokio::test]
async fn test_login_and_access() {
    let server = common::spawn().await;
    server
        .register("admin@example.com", "secret-password")
        .await;
    let response = server
        .client
        .post(server.url("/auth/jwt/login"))
        .json(&serde_json::json!({"username": "admin@example.com", "password": "secret-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let data: serde_json::Value = response.json().await.unwrap();
    assert_eq!(data["token_type"], "bearer");
    let token = data["access_token"].as_str().unwrap();

    let (status, body) = server.get("/users/me", Some(token)).await;
    assert_eq!(status, 200);
    assert_eq!(body["email"], "admin@example.com");
}

#[tokio::test]
async fn test_login_invalid_credentials() {
    let server = common::spawn().await;
    server
        .register("admin@example.com", "secret-password")
        .await;
    let response = server
        .client
        .post(server.url("/auth/jwt/login"))
        .json(&serde_json::json!({"username": "admin@example.com", "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
}

#[tokio::test]
async fn test_access_without_token() {
    let server = common::spawn().await;
    let (status, body) = server.get("/users/me", None).await;
    assert_eq!(status, 401);
    assert_eq!(body, serde_json::json!({"detail": "Unauthorized"}));
}
