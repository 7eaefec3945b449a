//! FastAPI's JWT tutorial ("JWT Authentication in FastAPI"), rebuilt with warden:
//! users log in with a username, `admin` / `secret` is there from the start,
//! `POST /login` takes `{"username", "password"}` (JSON, or the OAuth2 form Swagger
//! UI's Authorize sends), wrong credentials are 400 `{"detail": "Invalid
//! credentials"}`, and `GET /users/me` answers `{"user": "admin"}` to the token's
//! bearer, 401 to anyone else. HS256 tokens for 30 minutes, as in the tutorial; the
//! users in an embedded SQLite file. No setup.
//!
//! ```text
//! cargo run --example tutorial
//! curl -s localhost:8000/login -H 'content-type: application/json' \
//!      -d '{"username": "admin", "password": "secret"}'
//! ```
//!
//! Environment (all optional): `PORT` (8000), `TUTORIAL_DATABASE_URL`
//! (`sqlite://tutorial.db`), `SECRET_KEY` (the tutorial's variable; otherwise a
//! development secret is generated into `.warden/secret`).

use axum::{Json, Router};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden::{
    DatabaseStore, ErrorCode, UserCreate, UserStore, Warden, auth_backend, protected, user_model,
};

/// The tutorial's users: a username (unique, whatever its case) and a password hash.
/// No e-mail, so no password reset or e-mail verification.
#[user_model(login = username)]
pub struct Member {
    pub username: String,
}

/// The tutorial's tokens: HS256 (`ALGORITHM`), 30 minutes
/// (`ACCESS_TOKEN_EXPIRE_MINUTES`), signed with `SECRET_KEY`.
#[auth_backend(name = "jwt", lifetime = 1800, secret = env("SECRET_KEY"))]
pub struct Jwt;

/// The tutorial's `read_users_me`: the current user's name.
#[protected]
#[utoipa::path(get, path = "/users/me", responses((status = 200, description = "The current user's name")))]
async fn read_users_me(user: Member) -> Json<Value> {
    Json(json!({ "user": user.username }))
}

/// The tutorial's app over the users in `store`: `admin` / `secret` seeded (the
/// tutorial's `fake_users`), login at `POST /login`, `GET /users/me`, and `/docs`.
pub async fn app(store: impl UserStore<Member>) -> Result<Router, warden::Error> {
    let (routes, api) = OpenApiRouter::<Warden<Member>>::new()
        .routes(routes!(read_users_me))
        .split_for_parts();
    let warden = Warden::<Member>::builder()
        .store(store)
        // Development only: without SECRET_KEY, a random secret is kept here.
        .dev_secret_file(".warden/secret")
        .backend::<Jwt>()?
        .route_path("auth:jwt.login", "/login")
        .error_text(ErrorCode::LoginBadCredentials, "Invalid credentials")
        // The tutorial has no registration, and serves /users/me itself.
        .register_router(false)
        .users_router(false)
        .openapi(api)
        .build()?;
    // The tutorial's fake_users. A seeded password is the application's choice, not
    // a visitor's, so the registration rule (8 characters at least) does not apply;
    // it is hashed with Argon2id like any other. An existing `admin` is kept as is.
    warden
        .manager()
        .seed(UserCreate::new(
            "secret",
            MemberCreate {
                username: "admin".into(),
            },
        ))
        .await?;
    Ok(routes
        .merge(warden.routes())
        .fallback(warden::not_found)
        .with_state(warden))
}

#[cfg_attr(test, allow(dead_code))]
#[tokio::main]
async fn main() -> Result<(), warden::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let database = env_or("TUTORIAL_DATABASE_URL", "sqlite://tutorial.db");
    let port = env_or("PORT", "8000");
    let app = app(DatabaseStore::open(&database).await?).await?;
    tracing::info!("POST /login, GET /users/me, GET /docs on http://127.0.0.1:{port}");
    warden::serve(app, format!("127.0.0.1:{port}")).await
}

fn env_or(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}
