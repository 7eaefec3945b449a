//! Issue 19's "every way in obeys it": for a user with two-factor authentication on,
//! each way in answers the second-factor challenge (403 `LOGIN_2FA_REQUIRED` with an
//! `mfa_token`, never a token) and signs in once a code checks: password logins on a
//! bearer JWT backend, a cookie backend, the database strategy (SQLite and
//! PostgreSQL) and the Redis strategy; a username model; "Log in with GitHub"
//! (GitHub's documented responses, served locally) and an OpenID provider, whose own
//! `amr` with `mfa` is trusted unless `trust_provider_mfa(false)`. A refresh of a
//! session that passed continues without a code; a password reset never signs in
//! and leaves 2FA on; a re-authentication needs the code. Codes come from the
//! independent generator in `tests/common/totp.rs`; time from a manual clock.

#[macro_use]
mod common;

use std::sync::{Arc, Mutex};

use common::served::Store;
use common::{Db, Http, Reply, serve, totp};
use reqwest::Method;
use serde_json::json;
use warden::second_factor::{DEFAULT_ACR, TwoFactor};
use warden::{
    Clock, MemoryStore, OAuthOptions, TokenSettings, User, UserEvents, Warden, auth_backend,
    oauth_client, user_model,
};

const PASSWORD: &str = "two-factor-password-1";
const NEW_PASSWORD: &str = "two-factor-password-2";
const TWO_FACTOR_SECRET: &str = "a-two-factor-secret-of-at-least-32-bytes";
const RESET_SECRET: &str = "a-reset-secret-of-at-least-thirty-two-bytes";
const STATE_SECRET: &str = "a-state-secret-of-at-least-32-bytes-long";

/// Bearer JWTs with rotating refresh tokens.
#[auth_backend(
    name = "jwt",
    lifetime = 3600,
    secret = "ways-in-jwt-secret-of-at-least-32-bytes",
    refresh = 86400
)]
pub struct Jwt;

/// FastAPI Users' cookie transport, over plain HTTP.
#[auth_backend(
    name = "cookie",
    lifetime = 3600,
    secret = "ways-in-cookie-secret-of-at-least-32-bytes",
    transport = cookie(secure = false)
)]
pub struct CookieBackend;

/// FastAPI Users' database strategy: opaque tokens in `accesstoken`.
#[auth_backend(name = "db", lifetime = 3600, strategy = "database")]
pub struct Database;

/// FastAPI Users' Redis strategy.
#[auth_backend(
    name = "redis",
    lifetime = 3600,
    strategy = "redis",
    redis_url = env("WARDEN_TEST_REDIS_URL")
)]
pub struct RedisBackend;

/// Logs in with a username; no e-mail.
#[user_model(login = username)]
pub struct Player {
    pub username: String,
}

/// TOTP on the warden's clock, over plain HTTP (the binding cookie without
/// `__Host-`).
fn two_factor() -> TwoFactor {
    TwoFactor::totp("Ways In")
        .secret(TWO_FACTOR_SECRET)
        .cookie_secure(false)
}

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

/// The user's authenticator app: codes of its secret, each at a new time step (the
/// clock moves 30 s first), since a step at or before the last accepted one is
/// refused (RFC 6238 §5.2).
struct App2fa {
    secret: String,
    clock: Clock,
}

impl App2fa {
    fn code(&self) -> String {
        self.clock.advance(30);
        totp::code(&self.secret, self.clock.now())
    }
}

/// `POST path` with a form body, a bearer token and a `Cookie` header if given.
async fn form(
    http: &Http,
    path: &str,
    token: Option<&str>,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
) -> Reply {
    let mut request = http
        .client
        .post(format!("{}{path}", http.base))
        .form(fields);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    Reply::read(request.send().await.unwrap()).await
}

/// A password login at `/auth/{backend}/login` (form).
async fn login(http: &Http, backend: &str, username: &str, password: &str) -> Reply {
    form(
        http,
        &format!("/auth/{backend}/login"),
        None,
        None,
        &[("username", username), ("password", password)],
    )
    .await
}

/// Turns 2FA on for the holder of `token` (signed in moments ago): enrolment, then
/// a code from the new secret. The user's authenticator app.
async fn enable(http: &Http, clock: &Clock, token: &str) -> App2fa {
    let reply = http
        .send(Method::POST, "/users/me/2fa/totp", Some(token), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let secret = reply.json()["secret"].as_str().unwrap().to_owned();
    let app = App2fa {
        secret,
        clock: clock.clone(),
    };
    let reply = http
        .send(
            Method::POST,
            "/users/me/2fa/totp/confirm",
            Some(token),
            Some(&json!({ "code": app.code() })),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["recovery_codes"].as_array().unwrap().len(), 10);
    app
}

/// The challenge: 403 `{"detail": "LOGIN_2FA_REQUIRED", "error": "mfa_required",
/// "mfa_token"}`, not cached, and no credential in it (no token, no cookie but the
/// binding one). Its `mfa_token`.
#[track_caller]
fn challenged(reply: &Reply) -> String {
    assert_eq!(reply.status, 403, "{}", reply.text);
    let body = reply.json();
    let token = body["mfa_token"].as_str().expect("an mfa_token").to_owned();
    assert_eq!(
        body,
        json!({"detail": "LOGIN_2FA_REQUIRED", "error": "mfa_required", "mfa_token": token})
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    // Cookies, but none that signs in: the cookie backend's binding cookie, the
    // throttle's device cookie (the password was right: OWASP's device cookies) and
    // the OAuth callback's cleared CSRF cookie.
    for cookie in reply.headers.get_all("set-cookie") {
        let cookie = cookie.to_str().unwrap();
        assert!(
            cookie.starts_with("warden_mfa=")
                || cookie.starts_with("__Host-warden_device=")
                || cookie.starts_with("fastapiusersoauthcsrf=;"),
            "{cookie}"
        );
    }
    token
}

/// `POST /auth/{backend}/login/2fa` with the `mfa_token` and a code.
async fn second_step(
    http: &Http,
    backend: &str,
    mfa_token: &str,
    code: &str,
    cookie: Option<&str>,
) -> Reply {
    form(
        http,
        &format!("/auth/{backend}/login/2fa"),
        None,
        cookie,
        &[("mfa_token", mfa_token), ("code", code)],
    )
    .await
}

/// A bearer login response's access token (200).
#[track_caller]
fn access_token(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

/// The value of the cookie `name` a response sets.
fn set_cookie(reply: &Reply, name: &str) -> Option<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| {
            cookie
                .strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap().to_owned())
        })
}

/// A whole sign-in with the second factor on `backend` (bearer): the token.
async fn sign_in(http: &Http, backend: &str, login: &str, app: &App2fa) -> String {
    let mfa_token = challenged(&login_reply(http, backend, login).await);
    access_token(&second_step(http, backend, &mfa_token, &app.code(), None).await)
}

async fn login_reply(http: &Http, backend: &str, login: &str) -> Reply {
    self::login(http, backend, login, PASSWORD).await
}

/// Remembers the reset-password tokens the forgot-password route makes.
#[derive(Clone, Default)]
struct ResetTokens(Arc<Mutex<Option<String>>>);

#[warden::async_trait]
impl UserEvents<User> for ResetTokens {
    async fn on_after_forgot_password(&self, _user: &User, token: &str) {
        *self.0.lock().unwrap() = Some(token.to_owned());
    }
}

// ---------------------------------------------------------------------------------
// Password logins on a bearer, a cookie and a database backend; refresh, reset,
// re-authentication — on SQLite and PostgreSQL
// ---------------------------------------------------------------------------------

/// A warden with the three backends and 2FA on a manual clock, over a store with
/// the `accesstoken` table.
struct App {
    http: Http,
    clock: Clock,
    db: Db,
    resets: ResetTokens,
}

async fn app_on(Store { store, db }: Store) -> App {
    let clock = Clock::manual(common::now());
    let resets = ResetTokens::default();
    let warden: Warden = Warden::builder()
        .clock(clock.clone())
        .shared_store(store)
        .events(resets.clone())
        .reset_password(TokenSettings::new(RESET_SECRET))
        .backend::<Jwt>()
        .unwrap()
        .backend::<CookieBackend>()
        .unwrap()
        .backend::<Database>()
        .unwrap()
        .two_factor(two_factor())
        .build()
        .unwrap();
    App {
        http: Http::new(serve(common::app(&warden)).await),
        clock,
        db: db.unwrap(),
        resets,
    }
}

async fn sqlite(dir: &tempfile::TempDir) -> App {
    app_on(Store::sqlite(dir, "ways-in.db").await).await
}

async fn postgres(test: &str) -> Option<App> {
    Some(app_on(Store::postgres(test).await?).await)
}

/// Ada, registered, with 2FA on (enrolled through a bearer sign-in).
async fn ada(app: &App) -> App2fa {
    app.http.register("ada@example.com", PASSWORD).await;
    let token = access_token(&login_reply(&app.http, "jwt", "ada@example.com").await);
    enable(&app.http, &app.clock, &token).await
}

/// A password login on the bearer JWT backend, form and JSON alike, is challenged;
/// both second-step spellings answer the backend's login response, whose token says
/// how the user signed in.
async fn bearer_flow(app: &App) {
    let http = &app.http;
    let authenticator = ada(app).await;
    let json_login = http
        .send(
            Method::POST,
            "/auth/jwt/login",
            None,
            Some(&json!({"username": "ada@example.com", "password": PASSWORD})),
        )
        .await;
    challenged(&json_login);
    let grant_login = form(
        http,
        "/auth/jwt/login",
        None,
        None,
        &[
            ("grant_type", "password"),
            ("username", "ada@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await;
    challenged(&grant_login);

    let mfa_token = challenged(&login_reply(http, "jwt", "ada@example.com").await);
    let reply = second_step(http, "jwt", &mfa_token, &authenticator.code(), None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        body,
        json!({
            "access_token": token,
            "token_type": "bearer",
            "refresh_token": body["refresh_token"],
            "expires_in": 3600,
        })
    );
    assert!(body["refresh_token"].is_string());
    let claims = common::claims(token);
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["acr"], DEFAULT_ACR);
    assert_eq!(http.me(token).await.status, 200);

    // Auth0's grant type at the login route.
    let mfa_token = challenged(&login_reply(http, "jwt", "ada@example.com").await);
    let code = authenticator.code();
    let reply = form(
        http,
        "/auth/jwt/login",
        None,
        None,
        &[
            ("grant_type", "http://auth0.com/oauth/grant-type/mfa-otp"),
            ("mfa_token", &mfa_token),
            ("otp", &code),
        ],
    )
    .await;
    let token = access_token(&reply);
    assert_eq!(common::claims(&token)["amr"], json!(["pwd", "otp", "mfa"]));
}

on_both_stores!(bearer_login, bearer_flow);

/// A refresh continues a session that passed the second factor without asking for
/// a code: the refresh-token grant and FastAPI Users' access-token recipe alike.
async fn refresh_flow(app: &App) {
    let http = &app.http;
    let authenticator = ada(app).await;
    let mfa_token = challenged(&login_reply(http, "jwt", "ada@example.com").await);
    let reply = second_step(http, "jwt", &mfa_token, &authenticator.code(), None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let refresh_token = reply.json()["refresh_token"].as_str().unwrap().to_owned();
    let access = reply.json()["access_token"].as_str().unwrap().to_owned();
    app.clock.advance(60);

    let reply = form(
        http,
        "/auth/jwt/refresh",
        None,
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
        ],
    )
    .await;
    let refreshed = access_token(&reply);
    assert!(reply.json()["refresh_token"].is_string(), "{}", reply.text);
    assert_eq!(
        common::claims(&refreshed)["amr"],
        json!(["pwd", "otp", "mfa"])
    );
    assert_eq!(common::claims(&refreshed)["acr"], DEFAULT_ACR);
    assert_eq!(http.me(&refreshed).await.status, 200);

    let reply = form(http, "/auth/jwt/refresh", Some(&access), None, &[]).await;
    let recipe = access_token(&reply);
    assert_eq!(
        reply.json(),
        json!({"access_token": recipe, "token_type": "bearer"})
    );
    assert_eq!(common::claims(&recipe)["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(http.me(&recipe).await.status, 200);
}

on_both_stores!(refresh_continues, refresh_flow);

/// The cookie backend sets its cookie only after the second step: the 403 carries
/// the binding cookie alone, the second step needs it, and answers 204 with the
/// session cookie.
async fn cookie_flow(app: &App) {
    let http = &app.http;
    let authenticator = ada(app).await;
    let reply = login_reply(http, "cookie", "ada@example.com").await;
    let mfa_token = challenged(&reply);
    let binding = set_cookie(&reply, "warden_mfa").expect("the binding cookie");
    let cookie = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap())
        .find(|cookie| cookie.starts_with("warden_mfa="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert_eq!(set_cookie(&reply, "fastapiusersauth"), None);

    // Without the browser's binding cookie the token is refused (another browser).
    let reply = second_step(http, "cookie", &mfa_token, &authenticator.code(), None).await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "LOGIN_2FA_BAD_TOKEN"}));

    let reply = second_step(
        http,
        "cookie",
        &mfa_token,
        &authenticator.code(),
        Some(&format!("warden_mfa={binding}")),
    )
    .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(reply.text, "");
    let session = set_cookie(&reply, "fastapiusersauth").expect("the session cookie");
    assert_eq!(set_cookie(&reply, "warden_mfa").as_deref(), Some(""));
    let claims = common::claims(&session);
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    let me = Reply::read(
        http.client
            .get(format!("{}/users/me", http.base))
            .header("cookie", format!("fastapiusersauth={session}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json()["email"], "ada@example.com");
}

on_both_stores!(cookie_login, cookie_flow);

/// The database strategy writes no token row for the first factor alone; the
/// second step's opaque token works.
async fn database_flow(app: &App) {
    let http = &app.http;
    let authenticator = ada(app).await;
    let mfa_token = challenged(&login_reply(http, "db", "ada@example.com").await);
    assert_eq!(
        app.db.integer("SELECT COUNT(*) FROM accesstoken").await,
        Some(0)
    );
    let reply = second_step(http, "db", &mfa_token, &authenticator.code(), None).await;
    let token = access_token(&reply);
    assert_eq!(
        reply.json(),
        json!({"access_token": token, "token_type": "bearer"})
    );
    assert_eq!(token.len(), 43, "secrets.token_urlsafe()'s shape");
    assert_eq!(
        app.db.integer("SELECT COUNT(*) FROM accesstoken").await,
        Some(1)
    );
    let me = http.me(&token).await;
    assert_eq!(me.status, 200, "{}", me.text);
    // Another backend's `mfa_token` is refused here (bound to its backend).
    let mfa_token = challenged(&login_reply(http, "jwt", "ada@example.com").await);
    let reply = second_step(http, "db", &mfa_token, &authenticator.code(), None).await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "LOGIN_2FA_BAD_TOKEN"}));
}

on_both_stores!(database_login, database_flow);

/// A re-authentication of a user with 2FA needs a code beside the password.
async fn reauthenticate_flow(app: &App) {
    let http = &app.http;
    let authenticator = ada(app).await;
    let token = sign_in(http, "jwt", "ada@example.com", &authenticator).await;
    let path = "/auth/jwt/reauthenticate";

    let reply = form(http, path, Some(&token), None, &[("password", PASSWORD)]).await;
    assert_eq!(reply.status, 403, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({"detail": "LOGIN_2FA_REQUIRED", "error": "mfa_required"})
    );
    let wrong = if authenticator.code() == "000000" {
        "111111"
    } else {
        "000000"
    };
    let reply = form(
        http,
        path,
        Some(&token),
        None,
        &[("password", PASSWORD), ("code", wrong)],
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "LOGIN_2FA_BAD_CODE"}));

    let code = authenticator.code();
    let reply = form(
        http,
        path,
        Some(&token),
        None,
        &[("password", PASSWORD), ("code", &code)],
    )
    .await;
    let renewed = access_token(&reply);
    let claims = common::claims(&renewed);
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["auth_time"], app.clock.now());
}

on_both_stores!(reauthentication, reauthenticate_flow);

/// A password reset signs no one in (its answer is FastAPI Users' `null`, with no
/// token and no cookie) and leaves 2FA on: the new password is challenged too.
async fn reset_flow(app: &App) {
    let http = &app.http;
    let authenticator = ada(app).await;
    let reply = http
        .send(
            Method::POST,
            "/auth/forgot-password",
            None,
            Some(&json!({"email": "ada@example.com"})),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    let resets = app.resets.clone();
    common::until_seen("the reset token", async || {
        resets.0.lock().unwrap().is_some()
    })
    .await;
    let reset_token = resets.0.lock().unwrap().clone().unwrap();
    let reply = http
        .send(
            Method::POST,
            "/auth/reset-password",
            None,
            Some(&json!({"token": reset_token, "password": NEW_PASSWORD})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.text, "null");
    assert_eq!(reply.headers.get_all("set-cookie").iter().count(), 0);

    let reply = login(http, "jwt", "ada@example.com", NEW_PASSWORD).await;
    let mfa_token = challenged(&reply);
    let token =
        access_token(&second_step(http, "jwt", &mfa_token, &authenticator.code(), None).await);
    let status = http
        .send(Method::GET, "/users/me/2fa", Some(&token), None)
        .await;
    assert_eq!(status.status, 200, "{}", status.text);
    assert_eq!(
        status.json(),
        json!({
            "enabled": true,
            "methods": ["totp"],
            "pending": false,
            "recovery_codes_left": 10,
            "required": false,
        })
    );
}

on_both_stores!(password_reset, reset_flow);

// ---------------------------------------------------------------------------------
// The Redis strategy
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn redis_login_needs_the_second_factor() {
    if common::redis("redis_login_needs_the_second_factor").is_none() {
        return;
    }
    let clock = Clock::manual(common::now());
    let warden: Warden = Warden::builder()
        .clock(clock.clone())
        .store(MemoryStore::new())
        .backend::<RedisBackend>()
        .unwrap()
        .two_factor(two_factor())
        .build()
        .unwrap();
    let http = Http::new(serve(common::app(&warden)).await);
    let email = format!("rhea-{}@example.com", uuid::Uuid::new_v4().simple());
    http.register(&email, PASSWORD).await;
    let token = access_token(&login_reply(&http, "redis", &email).await);
    let authenticator = enable(&http, &clock, &token).await;

    let mfa_token = challenged(&login_reply(&http, "redis", &email).await);
    let reply = second_step(&http, "redis", &mfa_token, &authenticator.code(), None).await;
    let token = access_token(&reply);
    assert_eq!(token.len(), 43);
    let me = http.me(&token).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json()["email"], email.as_str());
}

// ---------------------------------------------------------------------------------
// A username model
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn username_login_needs_the_second_factor() {
    let clock = Clock::manual(common::now());
    let warden = Warden::<Player>::builder()
        .clock(clock.clone())
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .two_factor(two_factor())
        .build()
        .unwrap();
    let http = Http::new(serve(warden.routes().with_state(warden.clone())).await);
    let reply = http
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&json!({"username": "Arthur", "password": PASSWORD})),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let token = access_token(&login_reply(&http, "jwt", "arthur").await);
    let authenticator = enable(&http, &clock, &token).await;
    // On for this user.
    let reply = http
        .send(Method::GET, "/users/me/2fa", Some(&token), None)
        .await;
    assert_eq!(reply.json()["enabled"], true, "{}", reply.text);

    // Any spelling of the username is challenged.
    for login in ["Arthur", "ARTHUR"] {
        challenged(&login_reply(&http, "jwt", login).await);
    }
    let token = sign_in(&http, "jwt", "arthur", &authenticator).await;
    let me = http.me(&token).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json()["username"], "Arthur");
    assert_eq!(common::claims(&token)["amr"], json!(["pwd", "otp", "mfa"]));
}

// ---------------------------------------------------------------------------------
// "Log in with GitHub" (GitHub's documented responses, served locally)
// ---------------------------------------------------------------------------------

/// Where the local GitHub (`tests/common/github.rs`) listens: a fixed port (the
/// client's URLs are constants of its declaration), other than
/// `tests/oauth_github.rs`'s.
const GITHUB: &str = "127.0.0.1:29996";

#[oauth_client(
    name = "github",
    provider = "github",
    github_url = "http://127.0.0.1:29996",
    github_api_url = "http://127.0.0.1:29996/api",
    client_id = "Iv1.github-test",
    client_secret = "github-test-secret"
)]
struct GitHub;

/// authorize, GitHub, the callback: its reply.
async fn github_log_in(http: &Http, login: &str) -> Reply {
    common::github::log_in(http, "github", login).await.1
}

/// A provider login of a user with 2FA answers the challenge at the callback; the
/// second step on the router's backend signs in.
#[tokio::test]
async fn github_login_answers_the_challenge_at_the_callback() {
    common::github::start(GITHUB);
    let clock = Clock::manual(common::now());
    let warden: Warden = Warden::builder()
        .clock(clock.clone())
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .oauth::<GitHub, Jwt>(OAuthOptions::new("http://127.0.0.1:9", STATE_SECRET))
        .unwrap()
        .two_factor(two_factor())
        .build()
        .unwrap();
    let http = Http::new(serve(common::app(&warden)).await);

    let token = access_token(&github_log_in(&http, "octocat").await);
    assert_eq!(common::claims(&token)["amr"], json!(["fed"]));
    let authenticator = enable(&http, &clock, &token).await;

    let reply = github_log_in(&http, "octocat").await;
    let mfa_token = challenged(&reply);
    let reply = second_step(&http, "jwt", &mfa_token, &authenticator.code(), None).await;
    let token = access_token(&reply);
    assert_eq!(common::claims(&token)["amr"], json!(["fed", "otp", "mfa"]));
    let me = http.me(&token).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json()["email"], "octocat@github.com");
}

// ---------------------------------------------------------------------------------
// An OpenID provider (`.ci/oidc-setup.sh`), whose ID token may say it did MFA
// ---------------------------------------------------------------------------------

#[oauth_client(
    name = "oidc",
    issuer = env("WARDEN_TEST_OIDC_ISSUER"),
    client_id = "warden-test",
    client_secret = "warden-test-secret",
    scopes = ["openid", "email", "profile"]
)]
struct Oidc;

/// The callback URLs registered at the test provider are on this (unused) address.
const OIDC_PUBLIC_URL: &str = "http://127.0.0.1:9";

/// authorize, the provider (as `login`: `mfa+...` makes its ID token's `amr`
/// `["pwd", "otp", "mfa"]`), the callback: its reply.
async fn oidc_log_in(http: &Http, login: &str) -> Reply {
    let (url, csrf) = common::oauth::authorize(http, "oidc").await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let issuer = url.split("/auth?").next().unwrap().to_owned();
    let location =
        |response: &reqwest::Response| response.headers()["location"].to_str().unwrap().to_owned();
    let start = browser.get(&url).send().await.unwrap();
    assert_eq!(start.status(), 303);
    let interaction = location(&start);
    let interaction = if interaction.starts_with('/') {
        format!("{issuer}{interaction}")
    } else {
        interaction
    };
    let signed_in = browser
        .post(&interaction)
        .form(&[("login", login)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let resume = browser.get(location(&signed_in)).send().await.unwrap();
    assert_eq!(resume.status(), 303);
    let back = location(&resume);
    let query = back
        .strip_prefix(&format!("{OIDC_PUBLIC_URL}/auth/oidc/callback?"))
        .unwrap_or_else(|| panic!("{back}"));
    common::oauth::callback(http, "oidc", query, &csrf).await
}

/// An OpenID sign-in of a user with 2FA on: challenged when the provider's ID token
/// says nothing of MFA; admitted without a code when it says `mfa` and the
/// provider's MFA is trusted, challenged even then when it is not.
async fn oidc_flow(test: &str, trust: bool) {
    if common::oidc(test).is_none() {
        return;
    }
    let clock = Clock::manual(common::now());
    let warden: Warden = Warden::builder()
        .clock(clock.clone())
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .oauth::<Oidc, Jwt>(OAuthOptions::new(OIDC_PUBLIC_URL, STATE_SECRET))
        .unwrap()
        .two_factor(two_factor().trust_provider_mfa(trust))
        .build()
        .unwrap();
    let http = Http::new(serve(common::app(&warden)).await);
    let token = access_token(&oidc_log_in(&http, "alice@example.com").await);
    assert_eq!(common::claims(&token)["amr"], json!(["fed"]));
    let authenticator = enable(&http, &clock, &token).await;

    // The provider did no MFA: challenged, then signed in with a code.
    let mfa_token = challenged(&oidc_log_in(&http, "alice@example.com").await);
    let token =
        access_token(&second_step(&http, "jwt", &mfa_token, &authenticator.code(), None).await);
    assert_eq!(common::claims(&token)["amr"], json!(["fed", "otp", "mfa"]));

    // The provider did MFA.
    let reply = oidc_log_in(&http, "mfa+alice@example.com").await;
    if trust {
        let token = access_token(&reply);
        let claims = common::claims(&token);
        assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
        assert_eq!(claims["acr"], DEFAULT_ACR);
        assert_eq!(http.me(&token).await.json()["email"], "alice@example.com");
    } else {
        let mfa_token = challenged(&reply);
        let token =
            access_token(&second_step(&http, "jwt", &mfa_token, &authenticator.code(), None).await);
        assert_eq!(common::claims(&token)["amr"], json!(["pwd", "otp", "mfa"]));
        assert_eq!(http.me(&token).await.json()["email"], "alice@example.com");
    }
}

#[tokio::test]
async fn oidc_mfa_of_the_provider_is_trusted_by_default() {
    oidc_flow("oidc_mfa_of_the_provider_is_trusted_by_default", true).await;
}

#[tokio::test]
async fn oidc_mfa_of_the_provider_is_challenged_unless_trusted() {
    oidc_flow(
        "oidc_mfa_of_the_provider_is_challenged_unless_trusted",
        false,
    )
    .await;
}
