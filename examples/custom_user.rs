//! An application's own user model: FastAPI Users' base fields plus a first name, a
//! plan and a nickname, with integer ids assigned by SQLite.
//!
//! ```text
//! cargo run --example custom_user
//! curl -s localhost:8000/auth/register -H 'content-type: application/json' \
//!      -d '{"email": "ann@example.com", "password": "correct-horse", "first_name": "Ann"}'
//! # 201 {"id": 1, "email": "ann@example.com", ..., "first_name": "Ann", "plan": "free", "nickname": null}
//! ```
//!
//! Environment (all optional): `PORT` (8000), `WARDEN_DATABASE_URL`
//! (`sqlite://members.db`), `WARDEN_SECRET` (otherwise a development secret is
//! generated into `.warden/secret`).

use axum::routing::get;
use axum::{Json, Router};
use warden::{DatabaseStore, Warden, auth_backend, protected, user_model};

/// A member: FastAPI Users' base fields, then ours. Each extra field is a column of
/// the `user` table.
#[user_model(id = i64)]
pub struct Member {
    /// Sent at registration, shown everywhere, changeable.
    #[user(read, create, update)]
    pub first_name: String,
    /// Set by the application (every member starts on the free plan), shown.
    #[user(read, default = "free")]
    pub plan: String,
    /// Optional at registration, changeable, `null` clears it.
    #[user(read, create, update)]
    pub nickname: Option<String>,
}

/// HS256 access tokens valid for one hour; the secret comes from WARDEN_SECRET.
#[auth_backend(name = "jwt", lifetime = 3600)]
pub struct Jwt;

/// The parameter of type `Member` receives the member the guard admitted.
#[protected(active)]
async fn hello(user: Member) -> Json<String> {
    Json(format!("Hello {} on {}", user.first_name, user.plan))
}

#[tokio::main]
async fn main() -> Result<(), warden::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let database =
        std::env::var("WARDEN_DATABASE_URL").unwrap_or_else(|_| "sqlite://members.db".to_owned());
    let port = std::env::var("PORT").unwrap_or_else(|_| "8000".to_owned());

    let warden = Warden::<Member>::builder()
        .store(DatabaseStore::open(&database).await?)
        // Development only: without WARDEN_SECRET, a random secret is kept here.
        .dev_secret_file(".warden/secret")
        .backend::<Jwt>()?
        .build()?;
    for (method, path, what) in warden.route_table() {
        tracing::info!("route {method:<6} {path:<24} {what}");
    }
    tracing::info!("route GET    /hello                   #[protected(active)]");

    let app = Router::new()
        .route("/hello", get(hello))
        .merge(warden.routes())
        .fallback(warden::not_found)
        .with_state(warden);
    warden::serve(app, format!("127.0.0.1:{port}")).await
}
