//! The one sign-in step, attacked from each way in: a password login (form, JSON,
//! OAuth2 password grant), a refresh by access token, a refresh token and a
//! re-authentication all obey the application's `UserEvents::admit` with their own
//! refusal; only a login fires `on_after_login`; step-up (`fresh = N`, RFC 9470) is
//! measured on the token's own sign-in time, so neither a refresh nor an older
//! token of a re-authenticated session passes it; expiry runs on a manual clock.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::Router;
use axum::routing::post;
use reqwest::Method;
use serde_json::{Value, json};
use warden::signin::{SignIn, SignInKind};
use warden::{Clock, MemoryStore, User, UserEvents, Warden, async_trait, auth_backend, protected};

use common::{Http, INVALID_TOKEN, Reply, assert_token_refused};

const PASSWORD: &str = "correct-horse-battery";

/// Bearer tokens of 15 minutes with rotating refresh tokens.
#[auth_backend(
    name = "jwt",
    lifetime = 900,
    secret = "sign-in-test-secret-of-at-least-32-bytes",
    refresh = 86400,
    max_session_age = 604800
)]
pub struct Jwt;

/// Step-up: a sign-in at most five minutes old.
#[protected(active, fresh = 300)]
async fn payout(user: User) -> axum::Json<Value> {
    axum::Json(json!({ "payout": user.email }))
}

/// What the application's events saw, and whether it refuses sign-ins now.
#[derive(Default)]
struct Seen {
    logins: AtomicUsize,
    refuse: AtomicBool,
    kinds: std::sync::Mutex<Vec<(SignInKind, Vec<String>)>>,
}

struct Events(Arc<Seen>);

#[async_trait]
impl UserEvents for Events {
    async fn on_after_login(&self, _user: &User) {
        self.0.logins.fetch_add(1, Ordering::SeqCst);
    }

    async fn admit(&self, _user: &User, sign_in: &SignIn<'_>) -> bool {
        self.0
            .kinds
            .lock()
            .unwrap()
            .push((sign_in.kind, sign_in.amr.to_vec()));
        !self.0.refuse.load(Ordering::SeqCst)
    }
}

struct App {
    http: Http,
    clock: Clock,
    seen: Arc<Seen>,
}

async fn app() -> App {
    let clock = Clock::manual(common::now());
    let seen = Arc::new(Seen::default());
    let warden: Warden = Warden::builder()
        .clock(clock.clone())
        .store(MemoryStore::new())
        .events(Events(Arc::clone(&seen)))
        .backend::<Jwt>()
        .unwrap()
        .build()
        .unwrap();
    let router = Router::new()
        .route("/payout", post(payout))
        .merge(warden.routes())
        .fallback(warden::not_found)
        .with_state(warden);
    let http = Http::new(common::serve(router).await);
    http.register("ada@example.com", PASSWORD).await;
    App { http, clock, seen }
}

impl App {
    /// `POST path` with a form body (and a bearer token).
    async fn form(&self, path: &str, token: Option<&str>, form: &[(&str, &str)]) -> Reply {
        let mut request = self
            .http
            .client
            .post(format!("{}{path}", self.http.base))
            .form(form);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Reply::read(request.send().await.unwrap()).await
    }

    /// A password login: the token pair.
    async fn login(&self) -> (String, String) {
        let reply = self
            .form(
                "/auth/jwt/login",
                None,
                &[("username", "ada@example.com"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        pair(&reply)
    }

    async fn payout(&self, token: &str) -> Reply {
        self.http
            .send(Method::POST, "/payout", Some(token), None)
            .await
    }

    async fn reauthenticate(&self, token: &str, password: &str) -> Reply {
        self.form(
            "/auth/jwt/reauthenticate",
            Some(token),
            &[("password", password)],
        )
        .await
    }

    async fn refresh_grant(&self, refresh: &str) -> Reply {
        self.form(
            "/auth/jwt/refresh",
            None,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await
    }
}

/// The access and refresh tokens of a login response.
#[track_caller]
fn pair(reply: &Reply) -> (String, String) {
    let body = reply.json();
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

/// RFC 9470's answer to a stale sign-in.
#[track_caller]
fn assert_reauthentication_required(reply: &Reply) {
    assert_eq!(reply.status, 401, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "REAUTHENTICATION_REQUIRED"}));
    assert_eq!(
        reply.header("www-authenticate"),
        Some(r#"Bearer error="insufficient_user_authentication", max_age=300"#)
    );
}

#[tokio::test]
async fn step_up_is_measured_on_the_tokens_own_sign_in() {
    let app = app().await;
    let (token, refresh) = app.login().await;
    let claims = common::claims(&token);
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(app.payout(&token).await.status, 200);

    // Five minutes and a second later the sign-in is stale; the token still works
    // elsewhere.
    app.clock.advance(301);
    assert_reauthentication_required(&app.payout(&token).await);
    assert_eq!(app.http.me(&token).await.status, 200);

    // A refresh, by access token or by refresh token, keeps the sign-in time: it
    // never makes a session fresh.
    let recipe = app.form("/auth/jwt/refresh", Some(&token), &[]).await;
    assert_eq!(recipe.status, 200, "{}", recipe.text);
    // An access token buys an access token only, never a refresh token.
    assert_eq!(recipe.json()["refresh_token"], serde_json::Value::Null);
    let by_access = recipe.json()["access_token"].as_str().unwrap().to_owned();
    assert_reauthentication_required(&app.payout(&by_access).await);
    let granted = app.refresh_grant(&refresh).await;
    assert_eq!(granted.status, 200, "{}", granted.text);
    let (by_refresh, refresh) = pair(&granted);
    assert_eq!(
        common::claims(&by_refresh)["auth_time"],
        claims["auth_time"]
    );
    assert_reauthentication_required(&app.payout(&by_refresh).await);

    // A wrong password is a login's refusal (and counts like one).
    let wrong = app.reauthenticate(&token, "not-the-password").await;
    assert_eq!(wrong.status, 400, "{}", wrong.text);
    assert_eq!(wrong.json(), json!({"detail": "LOGIN_BAD_CREDENTIALS"}));

    // The password again: the same session, signed anew.
    let renewed = app.reauthenticate(&token, PASSWORD).await;
    assert_eq!(renewed.status, 200, "{}", renewed.text);
    assert_eq!(renewed.header("cache-control"), Some("no-store"));
    let (fresh, fresh_refresh) = pair(&renewed);
    let fresh_claims = common::claims(&fresh);
    assert_eq!(fresh_claims["sid"], claims["sid"]);
    assert_eq!(
        fresh_claims["auth_time"].as_i64().unwrap(),
        claims["auth_time"].as_i64().unwrap() + 301
    );
    assert_eq!(app.payout(&fresh).await.status, 200);
    // Older tokens of the session stay as stale as they were.
    assert_reauthentication_required(&app.payout(&token).await);
    assert_reauthentication_required(&app.payout(&by_refresh).await);

    // The re-authentication spent the older refresh tokens: presenting one now is
    // reuse, and ends the whole session (RFC 9700 §4.14.2).
    let replayed = app.refresh_grant(&refresh).await;
    assert_eq!(replayed.status, 400, "{}", replayed.text);
    assert_eq!(replayed.json(), json!({"error": "invalid_grant"}));
    assert_token_refused(&app.payout(&fresh).await);
    assert_eq!(
        app.refresh_grant(&fresh_refresh).await.json(),
        json!({"error": "invalid_grant"})
    );

    // Only the password login fired on_after_login (FastAPI Users' rule).
    assert_eq!(app.seen.logins.load(Ordering::SeqCst), 1);
    let kinds: Vec<SignInKind> = app
        .seen
        .kinds
        .lock()
        .unwrap()
        .iter()
        .map(|(kind, _)| *kind)
        .collect();
    assert_eq!(
        kinds,
        [
            SignInKind::Start,
            SignInKind::Continue,
            SignInKind::Continue,
            SignInKind::Reauthenticate
        ]
    );
}

#[tokio::test]
async fn a_re_authentication_cannot_switch_accounts_or_skip_the_token() {
    let app = app().await;
    app.http.register("eve@example.com", PASSWORD).await;
    let (token, _) = app.login().await;
    // Eve's password, named as Eve, on Ada's session: refused as bad credentials.
    let switched = app
        .form(
            "/auth/jwt/reauthenticate",
            Some(&token),
            &[("username", "eve@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(switched.status, 400, "{}", switched.text);
    assert_eq!(switched.json(), json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
    // Her own login spelled otherwise is hers.
    let own = app
        .form(
            "/auth/jwt/reauthenticate",
            Some(&token),
            &[("username", "ADA@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.text);
    // Without a token there is no session to renew.
    let anonymous = app
        .form("/auth/jwt/reauthenticate", None, &[("password", PASSWORD)])
        .await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    // A missing password is FastAPI's 422.
    let missing = app
        .form("/auth/jwt/reauthenticate", Some(&token), &[])
        .await;
    assert_eq!(missing.status, 422, "{}", missing.text);
    assert_eq!(
        missing.json()["detail"][0]["loc"],
        json!(["body", "password"])
    );
}

#[tokio::test]
async fn every_way_in_obeys_the_applications_policy_with_its_own_refusal() {
    let app = app().await;
    let (token, refresh) = app.login().await;
    app.seen.refuse.store(true, Ordering::SeqCst);

    // Password login: FastAPI Users' refusal, with the OAuth2 `error` member when
    // the form names the password grant.
    let form = app
        .form(
            "/auth/jwt/login",
            None,
            &[("username", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(form.status, 400);
    assert_eq!(form.json(), json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
    let grant = app
        .form(
            "/auth/jwt/login",
            None,
            &[
                ("grant_type", "password"),
                ("username", "ada@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(grant.status, 400);
    assert_eq!(
        grant.json(),
        json!({"detail": "LOGIN_BAD_CREDENTIALS", "error": "invalid_grant"})
    );
    let json_login = app
        .http
        .send(
            Method::POST,
            "/auth/jwt/login",
            None,
            Some(&json!({"username": "ada@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(json_login.status, 400);
    assert_eq!(
        json_login.json(),
        json!({"detail": "LOGIN_BAD_CREDENTIALS"})
    );

    // Refresh by access token: 401, the token refused.
    let recipe = app.form("/auth/jwt/refresh", Some(&token), &[]).await;
    assert_token_refused(&recipe);

    // Refresh token: RFC 6749 §5.2's invalid_grant.
    let granted = app.refresh_grant(&refresh).await;
    assert_eq!(granted.status, 400);
    assert_eq!(granted.json(), json!({"error": "invalid_grant"}));

    // Re-authentication: a login's refusal.
    let renewed = app.reauthenticate(&token, PASSWORD).await;
    assert_eq!(renewed.status, 400);
    assert_eq!(renewed.json(), json!({"detail": "LOGIN_BAD_CREDENTIALS"}));

    // No way in fired the login hook after the first login.
    assert_eq!(app.seen.logins.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_wrong_password_grant_reads_as_an_oauth2_error_too() {
    let app = app().await;
    let reply = app
        .form(
            "/auth/jwt/login",
            None,
            &[
                ("grant_type", "password"),
                ("username", "ada@example.com"),
                ("password", "wrong-password"),
            ],
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json(),
        json!({"detail": "LOGIN_BAD_CREDENTIALS", "error": "invalid_grant"})
    );
}

#[tokio::test]
async fn tokens_expire_on_the_warden_clock_without_sleeping() {
    let app = app().await;
    let (token, refresh) = app.login().await;
    app.clock.advance(899);
    assert_eq!(app.http.me(&token).await.status, 200);
    app.clock.advance(1);
    let expired = app.http.me(&token).await;
    assert_token_refused(&expired);
    assert_eq!(expired.header("www-authenticate"), Some(INVALID_TOKEN));
    // The refresh token outlives the access token, then dies on the same clock.
    assert_eq!(app.refresh_grant(&refresh).await.status, 200);
    app.clock.advance(86_400);
    let (token, refresh) = app.login().await;
    app.clock.advance(86_401);
    assert_token_refused(&app.http.me(&token).await);
    assert_eq!(
        app.refresh_grant(&refresh).await.json(),
        json!({"error": "invalid_grant"})
    );
}

#[tokio::test]
async fn an_unknown_path_is_fastapis_404() {
    let app = app().await;
    let reply = app
        .http
        .send(Method::GET, "/no/such/route", None, None)
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json(), json!({"detail": "Not Found"}));
}
