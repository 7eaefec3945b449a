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
//! Roles: a superuser gives them (`PATCH /users/{id} {"roles": ["editor"]}`);
//! `/drafts` admits editors and admins, others get 403. With
//! `WARDEN_SUPERUSER_EMAIL` / `WARDEN_SUPERUSER_PASSWORD` set, that superuser
//! exists at startup.
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
    /// Shown as names (`["editor"]`); given only by a superuser or by code.
    #[user(roles)]
    pub roles: Vec<Role>,
}

/// The roles of this application: `admin` and `editor` (column `roles`, the names
/// separated by spaces).
#[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
pub enum Role {
    Admin,
    Editor,
}

/// HS256 access tokens valid for one hour; the secret comes from WARDEN_SECRET.
#[auth_backend(name = "jwt", lifetime = 3600)]
pub struct Jwt;

/// The parameter of type `Member` receives the member the guard admitted.
#[protected(active)]
async fn hello(user: Member) -> Json<String> {
    Json(format!("Hello {} on {}", user.first_name, user.plan))
}

/// Editors and admins only: a role that does not exist would not compile.
#[protected(active, any_role(Role::Editor, Role::Admin))]
async fn drafts(user: Member) -> Json<String> {
    Json(format!("{}'s drafts", user.first_name))
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
    if let (Ok(email), Ok(password)) = (
        std::env::var("WARDEN_SUPERUSER_EMAIL"),
        std::env::var("WARDEN_SUPERUSER_PASSWORD"),
    ) {
        let admin = MemberCreate {
            first_name: "Admin".to_owned(),
            nickname: None,
        };
        let create = warden::UserCreate::new(password, admin).with_email(&email);
        warden.manager().ensure_superuser_with(create).await?;
    }
    for (method, path, what) in warden.route_table() {
        tracing::info!("route {method:<6} {path:<24} {what}");
    }
    tracing::info!("route GET    /hello                   #[protected(active)]");
    tracing::info!(
        "route GET    /drafts                  #[protected(active, any_role(Role::Editor, Role::Admin))]"
    );

    let app = Router::new()
        .route("/hello", get(hello))
        .route("/drafts", get(drafts))
        .merge(warden.routes())
        .fallback(warden::not_found)
        .with_state(warden);
    warden::serve(app, format!("127.0.0.1:{port}")).await
}
