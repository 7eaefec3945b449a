//! The quickstart: registration, login, logout, refresh and four guarded routes over
//! an embedded SQLite file. No setup.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Environment (all optional): `PORT` (8000), `WARDEN_DATABASE_URL`
//! (`sqlite://warden.db`; a `postgres://` URL needs `--features postgres`), `WARDEN_SECRET` (otherwise a development secret is
//! generated into `.warden/secret`), `WARDEN_SUPERUSER_EMAIL` and
//! `WARDEN_SUPERUSER_PASSWORD` (create or promote a superuser at startup).

use axum::Json;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden::{DatabaseStore, User, Warden, auth_backend, protected};

/// HS256 access tokens valid for one hour; the secret comes from WARDEN_SECRET.
#[auth_backend(name = "jwt", lifetime = 3600)]
pub struct Jwt;

// `#[utoipa::path]` puts a handler in /docs; under `#[protected]` it shows the lock
// of every backend and the guard's 401 and 403 answers.

#[protected(active)]
#[utoipa::path(get, path = "/authenticated-route", responses((status = 200, description = "A greeting")))]
async fn authenticated_route(user: User) -> Json<Value> {
    Json(json!({ "message": format!("Hello {}!", user.email) }))
}

#[protected(active, verified)]
#[utoipa::path(get, path = "/verified-route", responses((status = 200, description = "A greeting")))]
async fn verified_route(user: User) -> Json<Value> {
    Json(json!({ "message": format!("Hello {}, you are verified!", user.email) }))
}

#[protected(active, superuser)]
#[utoipa::path(get, path = "/superuser-route", responses((status = 200, description = "A greeting")))]
async fn superuser_route(user: User) -> Json<Value> {
    Json(json!({ "message": format!("Hello {}, you are a superuser!", user.email) }))
}

#[protected(optional)]
#[utoipa::path(get, path = "/optional-route", responses((status = 200, description = "A greeting, anonymous or not")))]
async fn optional_route(user: Option<User>) -> Json<Value> {
    let message = match user {
        Some(user) => format!("Hello {}!", user.email),
        None => "Hello anonymous!".to_owned(),
    };
    Json(json!({ "message": message }))
}

#[tokio::main]
async fn main() -> Result<(), warden::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();

    let database = env_or("WARDEN_DATABASE_URL", "sqlite://warden.db");
    let port = env_or("PORT", "8000");
    // One list registers the demo routes and documents them.
    let (demo_router, api) = OpenApiRouter::<Warden>::new()
        .routes(routes!(authenticated_route))
        .routes(routes!(verified_route))
        .routes(routes!(superuser_route))
        .routes(routes!(optional_route))
        .split_for_parts();
    let warden: Warden = Warden::builder()
        .store(DatabaseStore::open(&database).await?)
        // Development only: without WARDEN_SECRET, a random secret is kept here.
        .dev_secret_file(".warden/secret")
        .backend::<Jwt>()?
        .openapi(api)
        .build()?;

    if let (Ok(email), Ok(password)) = (
        std::env::var("WARDEN_SUPERUSER_EMAIL"),
        std::env::var("WARDEN_SUPERUSER_PASSWORD"),
    ) {
        match warden.manager().ensure_superuser(&email, password).await {
            Ok(user) => tracing::info!(id = %user.id, email = %user.email, "superuser ready"),
            Err(error) => {
                tracing::error!("WARDEN_SUPERUSER_EMAIL / WARDEN_SUPERUSER_PASSWORD: {error}");
                std::process::exit(2);
            }
        }
    }

    // Warden's routes, then the demo routes documented above.
    for (method, path, what) in warden.route_table() {
        tracing::info!("route {method:<6} {path:<24} {what}");
    }
    tracing::info!("database {database}");

    let app = demo_router
        .merge(warden.routes())
        .fallback(warden::not_found)
        .with_state(warden);
    warden::serve(app, format!("127.0.0.1:{port}")).await
}

fn env_or(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}
