//! FastAPI Users' "full example" in warden: every router, bearer (with refresh
//! tokens), cookie, database and Redis backends, the sessions routes, the development
//! mailer, a bootstrap superuser, the demo guarded routes, and passkeys with a page
//! at `/passkeys` that registers, lists, renames, deletes and signs in with them.
//!
//! ```text
//! WARDEN_OUTBOX=outbox.jsonl cargo run --example full --features redis,oauth,passkeys
//! ```
//!
//! Environment (all optional): `PORT` (8000), `WARDEN_DATABASE_URL`
//! (`sqlite://warden.db`), `WARDEN_SECRET`, `WARDEN_RESET_SECRET`,
//! `WARDEN_VERIFY_SECRET` (otherwise development secrets are generated into
//! `.warden/`), `WARDEN_OUTBOX` (a file that receives reset and verify tokens, one
//! JSON line each), `WARDEN_SUPERUSER_EMAIL` / `WARDEN_SUPERUSER_PASSWORD`,
//! `WARDEN_REDIS_URL` (`redis://127.0.0.1:6379/0`: serves the `redis` backend at
//! `/auth/redis/*`), `WARDEN_OIDC_ISSUER` / `WARDEN_OIDC_CLIENT_ID` /
//! `WARDEN_OIDC_CLIENT_SECRET` (serve "log in with" routers at `/auth/oidc`,
//! `/auth/oidc-link` (`associate_by_email`), `/auth/oidc-verified`
//! (`is_verified_by_default`) and the associate router at `/auth/associate/oidc`,
//! all on the `jwt` backend; the provider's callback URLs are under
//! `WARDEN_PUBLIC_URL`, default `http://localhost:{PORT}`), `WARDEN_OAUTH_STATE_SECRET`,
//! `WARDEN_TWO_FACTOR_SECRET` (the key of the users' TOTP secrets at rest).
//!
//! Two-factor authentication (TOTP) is on for users who enrol, and required of
//! superusers; `/mfa-route` wants a session that passed it.
//!
//! API keys: `POST /users/me/api-keys {"name": "ci", "scopes": ["reports:read"]}`
//! (a fresh sign-in) answers a `wdn_...` key once; `/reports` admits it (or any
//! signed-in user) as a bearer token, a key without the scope gets 403
//! `insufficient_scope`. Operators (a superuser signed in within 15 minutes, with
//! the second factor): `GET /users?role=&email=...`, `POST /users/{id}/ban`,
//! `POST /users/{id}/impersonate`, `GET /users/{id}/security-events` (the audit
//! trail keeps 90 days). Roles need a model with a roles field: see
//! `examples/custom_user.rs`; this example keeps FastAPI Users' `User`.
//! `WARDEN_PASSKEY_SECRET` (decoy credential ids), `WARDEN_PASSKEY_RP_ID` (`localhost`;
//! the page's origin is `WARDEN_PUBLIC_URL`: open it there, not at 127.0.0.1).

use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use warden::audit::AuditTrail;
use warden::passkeys::Passkeys;
use warden::runtime::dev::load_or_create_secret;
use warden::second_factor::{TwoFactor, TwoFactorPolicy};
use warden::token::Secret;
use warden::{
    DatabaseStore, DevMailer, OAuthOptions, TokenSettings, User, Warden, auth_backend,
    oauth_client, protected,
};

/// Bearer tokens for API clients, with rotating refresh tokens: login also answers
/// a single-use `refresh_token` (7 days, the default maximum session age).
#[auth_backend(name = "jwt", lifetime = 3600, refresh = 604800)]
pub struct Jwt;

/// FastAPI Users' database strategy: opaque tokens in the `accesstoken` table.
#[auth_backend(name = "db", lifetime = 3600, strategy = "database")]
pub struct Db;

/// FastAPI Users' Redis strategy: opaque tokens in the Redis at `WARDEN_REDIS_URL`.
#[auth_backend(name = "redis", lifetime = 3600, strategy = "redis")]
pub struct Redis;

/// "Log in with" an OpenID Connect provider.
#[oauth_client(
    name = "oidc",
    issuer = env("WARDEN_OIDC_ISSUER"),
    client_id = env("WARDEN_OIDC_CLIENT_ID"),
    client_secret = env("WARDEN_OIDC_CLIENT_SECRET"),
    scopes = ["openid", "email", "profile"]
)]
pub struct Oidc;

/// Personal access tokens for scripts and CI jobs: `Authorization: Bearer wdn_...`.
#[auth_backend(name = "api", strategy = "api_key")]
pub struct Api;

/// What an API key may do; a signed-in session may do all of it.
#[derive(Clone, Copy, warden::Scopes)]
pub enum Scope {
    #[scope("reports:read")]
    ReportsRead,
}

/// Tokens in an HttpOnly cookie, for browsers. `secure = false` so that it works
/// over plain http on localhost; keep the default (`true`) in production. Its own
/// audience: a bearer token of `jwt` (same secret) is then no cookie token, and a
/// cookie token read out of a browser is no bearer token (RFC 8725 §3.9).
#[auth_backend(
    name = "cookie",
    lifetime = 3600,
    audience = ["fastapi-users:auth:cookie"],
    transport = cookie(secure = false)
)]
pub struct Cookie;

#[protected(active)]
async fn authenticated_route(user: User) -> Json<Value> {
    Json(json!({ "message": format!("Hello {}!", user.email) }))
}

#[protected(active, verified)]
async fn verified_route(user: User) -> Json<Value> {
    Json(json!({ "message": format!("Hello {}, you are verified!", user.email) }))
}

#[protected(active, superuser)]
async fn superuser_route(user: User) -> Json<Value> {
    Json(json!({ "message": format!("Hello {}, you are a superuser!", user.email) }))
}

/// Step-up: a session that passed a second factor (a TOTP or recovery code).
#[protected(active, mfa)]
async fn mfa_route(user: User) -> Json<Value> {
    Json(json!({ "message": format!("Hello {}, you passed a second factor!", user.email) }))
}

/// A signed-in user, or an API key created with `reports:read`.
#[protected(active, scope = Scope::ReportsRead)]
async fn reports(user: User) -> Json<Value> {
    Json(json!({ "reports": [], "for": user.email }))
}

#[protected(optional)]
async fn optional_route(user: Option<User>) -> Json<Value> {
    let message = match user {
        Some(user) => format!("Hello {}!", user.email),
        None => "Hello anonymous!".to_owned(),
    };
    Json(json!({ "message": message }))
}

/// The secret in `var`, or a development secret kept in `.warden/{file}`.
fn secret(var: &str, file: &str) -> Result<Secret, warden::Error> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Ok(Secret::from(value)),
        _ => {
            let path = std::path::Path::new(".warden").join(file);
            let (secret, _) = load_or_create_secret(&path)?;
            tracing::warn!(
                "{var} is not set; using the development secret in {}",
                path.display()
            );
            Ok(secret)
        }
    }
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
    let public_url = env_or("WARDEN_PUBLIC_URL", &format!("http://localhost:{port}"));
    let mut builder = Warden::<User>::builder()
        .store(DatabaseStore::open(&database).await?)
        .dev_secret_file(".warden/secret")
        .backend::<Jwt>()?
        .backend::<Cookie>()?
        .backend::<Db>()?
        .backend::<Api>()?
        .scopes::<Scope>()
        .audit_trail(AuditTrail::keep_for(std::time::Duration::from_secs(
            90 * 24 * 3600,
        )))
        .reset_password(TokenSettings::new(secret(
            "WARDEN_RESET_SECRET",
            "reset-secret",
        )?))
        .verification(TokenSettings::new(secret(
            "WARDEN_VERIFY_SECRET",
            "verify-secret",
        )?))
        .two_factor(
            TwoFactor::totp("warden full example")
                .secret(secret("WARDEN_TWO_FACTOR_SECRET", "two-factor-secret")?)
                .policy(TwoFactorPolicy::Superusers)
                .remember_device(30)
                // Plain http on localhost, as the cookie backend.
                .cookie_secure(false),
        )
        .passkeys(passkeys(
            &env_or("WARDEN_PASSKEY_RP_ID", "localhost"),
            &public_url,
            secret("WARDEN_PASSKEY_SECRET", "passkey-secret")?,
        ));
    if std::env::var_os("WARDEN_REDIS_URL").is_some_and(|url| !url.is_empty()) {
        builder = builder.backend::<Redis>()?;
    }
    if std::env::var_os("WARDEN_OIDC_ISSUER").is_some_and(|url| !url.is_empty()) {
        let state_secret = secret("WARDEN_OAUTH_STATE_SECRET", "oauth-state-secret")?;
        let options = || OAuthOptions::new(public_url.clone(), state_secret.clone());
        builder = builder
            .oauth::<Oidc, Jwt>(options())?
            .oauth::<Oidc, Jwt>(options().route("oidc-link").associate_by_email(true))?
            .oauth::<Oidc, Jwt>(
                options()
                    .route("oidc-verified")
                    .is_verified_by_default(true),
            )?
            .oauth_associate::<Oidc>(options())?;
    }
    if let Ok(outbox) = std::env::var("WARDEN_OUTBOX") {
        tracing::info!(
            "development mailer: reset and verify tokens, and account notices, go to {outbox}"
        );
        builder = builder
            .events(DevMailer::new(&outbox))
            .security_events(DevMailer::new(outbox));
    }
    let warden = builder.build()?;

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

    for (method, path, what) in warden.route_table() {
        tracing::info!("route {method:<6} {path:<28} {what}");
    }
    let app = Router::new()
        .route("/authenticated-route", get(authenticated_route))
        .route("/verified-route", get(verified_route))
        .route("/superuser-route", get(superuser_route))
        .route("/optional-route", get(optional_route))
        .route("/mfa-route", get(mfa_route))
        .route("/reports", get(reports))
        .route("/passkeys", get(passkeys_page))
        .merge(warden.routes())
        .fallback(warden::not_found)
        .with_state(warden);
    warden::serve(app, format!("127.0.0.1:{port}")).await
}

/// Passkeys for the page's origin (RP ID `localhost` in development).
pub fn passkeys(rp_id: &str, origin: &str, secret: Secret) -> Passkeys {
    Passkeys::new(rp_id, [origin], "warden full example").secret(secret)
}

/// `GET /passkeys`: a page that registers, lists, renames, deletes and signs in with
/// passkeys, through `/auth/passkeys/client.js`.
pub async fn passkeys_page() -> Html<&'static str> {
    Html(include_str!("full/passkeys.html"))
}

fn env_or(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}
