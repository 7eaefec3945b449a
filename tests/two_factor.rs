//! Two-factor authentication (issue 19) end to end, through real HTTP: the user's
//! flows (enrolment, the second step in both spellings, recovery codes, remembered
//! devices, step-up, turning it off) and the attacker's (replayed and earlier codes,
//! expired, exhausted, used, foreign and unbound `mfa_token`s, limited sessions).
//!
//! Codes come from `common::totp`, an implementation independent of warden's; time
//! from a manual clock (never a sleep). Each flow runs on the memory store, a SQLite
//! file and PostgreSQL (needs `WARDEN_TEST_POSTGRES_URL`, else "skipped"); on SQLite
//! and PostgreSQL as two instances over one database, `a` and `b`.

#[macro_use]
mod common;

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use common::events::Collect;
use common::{Http, Jwt, Reply, claims, totp};
use reqwest::Method;
use serde_json::{Value, json};
use warden::second_factor::{TwoFactor, TwoFactorPolicy};
use warden::{
    Clock, MemoryStore, ThrottleSettings, User, UserStore, Warden, auth_backend, protected,
};

const PASSWORD: &str = "correct-horse";
const NEW_PASSWORD: &str = "battery-staple";
const ISSUER: &str = "Warden Tests";
const ACR: &str = "urn:example:mfa";
const TWO_FACTOR_SECRET: &str = "a-two-factor-secret-of-at-least-32-bytes";
const STEP_UP: &str =
    r#"Bearer error="insufficient_user_authentication", acr_values="urn:example:mfa""#;
const MFA_OTP: &str = "http://auth0.com/oauth/grant-type/mfa-otp";
const MFA_RECOVERY: &str = "http://auth0.com/oauth/grant-type/mfa-recovery-code";
const REMEMBER_DAYS: u32 = 30;

/// A cookie backend over plain HTTP (the test server's), so the client's jar sends it.
#[auth_backend(
    name = "cookie",
    lifetime = 3600,
    secret = "cookie-secret-that-is-at-least-32-bytes-long",
    transport = cookie(secure = false)
)]
struct CookieBackend;

/// FastAPI Users' database strategy: an opaque token, a row a login.
#[auth_backend(name = "db", lifetime = 3600, strategy = "database")]
struct Opaque;

/// An application route that wants a sign-in that passed a second factor.
#[protected(active, mfa)]
async fn mfa_route(user: User) -> Json<Value> {
    Json(json!({ "message": format!("Hello {}, second factor seen!", user.email) }))
}

/// Two instances of one application (the same server on the memory store).
struct App {
    a: Http,
    b: Http,
    warden: Warden,
    clock: Clock,
    events: Collect,
}

/// How an application configures its second factor.
#[derive(Clone, Copy)]
struct Config {
    policy: TwoFactorPolicy,
    remember: bool,
    /// The login throttle's per-account limit, when not the default.
    per_account: Option<u64>,
}

const OPTIONAL: Config = Config {
    policy: TwoFactorPolicy::Optional,
    remember: true,
    per_account: None,
};

fn warden_over(
    store: Arc<dyn UserStore<User>>,
    clock: &Clock,
    events: &Collect,
    config: Config,
) -> Warden {
    let mut two_factor = TwoFactor::totp(ISSUER)
        .secret(TWO_FACTOR_SECRET)
        .policy(config.policy)
        .acr(ACR)
        .cookie_secure(false);
    if config.remember {
        two_factor = two_factor.remember_device(REMEMBER_DAYS);
    }
    let mut builder = Warden::builder()
        .clock(clock.clone())
        .shared_store(store)
        .backend::<Jwt>()
        .unwrap()
        .backend::<CookieBackend>()
        .unwrap()
        .backend::<Opaque>()
        .unwrap()
        .two_factor(two_factor)
        .security_events(events.clone());
    if let Some(per_account) = config.per_account {
        builder = builder.throttle(ThrottleSettings {
            per_account,
            ..ThrottleSettings::default()
        });
    }
    builder.build().unwrap()
}

fn router(warden: &Warden) -> Router {
    Router::new()
        .route("/authenticated-route", get(common::authenticated_route))
        .route("/mfa-route", get(mfa_route))
        .merge(warden.routes())
        .with_state(warden.clone())
}

/// A manual clock ten seconds into a 30-second step, so a test knows which step
/// it is in.
fn clock() -> Clock {
    Clock::manual(common::now() / 30 * 30 + 10)
}

/// Two instances, one over each store (the stores share one database).
async fn pair(stores: [Arc<dyn UserStore<User>>; 2], config: Config) -> App {
    let clock = clock();
    let events = Collect::default();
    let [a, b] = stores.map(|store| warden_over(store, &clock, &events, config));
    App {
        a: Http::new(common::serve(router(&a)).await),
        b: Http::new(common::serve(router(&b)).await),
        warden: a,
        clock,
        events,
    }
}

async fn memory_with(config: Config) -> App {
    let clock = clock();
    let events = Collect::default();
    let warden = warden_over(Arc::new(MemoryStore::new()), &clock, &events, config);
    let base = common::serve(router(&warden)).await;
    App {
        a: Http::new(base.clone()),
        b: Http::new(base),
        warden,
        clock,
        events,
    }
}

async fn sqlite_with(dir: &tempfile::TempDir, config: Config) -> App {
    let url = format!("sqlite://{}", dir.path().join("two_factor.db").display());
    let a = warden::SqliteStore::open(&url).await.unwrap();
    let b = warden::SqliteStore::open(&url).await.unwrap();
    pair([Arc::new(a), Arc::new(b)], config).await
}

async fn postgres_with(test: &str, config: Config) -> Option<App> {
    let (url, options) = common::postgres(test).await?;
    let connect = async || {
        warden::PostgresStore::<User>::connect_with(options.clone(), &url)
            .await
            .unwrap()
    };
    let (a, b) = (connect().await, connect().await);
    Some(pair([Arc::new(a), Arc::new(b)], config).await)
}

async fn memory() -> App {
    memory_with(OPTIONAL).await
}

async fn sqlite(dir: &tempfile::TempDir) -> App {
    sqlite_with(dir, OPTIONAL).await
}

async fn postgres(test: &str) -> Option<App> {
    postgres_with(test, OPTIONAL).await
}

// ---------------------------------------------------------------------------
// Requests.

/// `POST path` with a form, from `http`'s client (its cookie jar if a browser).
async fn form(http: &Http, path: &str, pairs: &[(&str, &str)]) -> Reply {
    Reply::read(
        http.client
            .post(format!("{}{path}", http.base))
            .form(pairs)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The password step at `POST /auth/{backend}/login` (OAuth2 form).
async fn login(http: &Http, backend: &str, email: &str, password: &str) -> Reply {
    form(
        http,
        &format!("/auth/{backend}/login"),
        &[("username", email), ("password", password)],
    )
    .await
}

/// The password step of a user with 2FA: asserts the 403 challenge and answers
/// its `mfa_token`.
#[track_caller]
fn challenge(reply: &Reply) -> String {
    assert_eq!(reply.status, 403, "{}", reply.text);
    let body = reply.json();
    let token = body["mfa_token"].as_str().expect("an mfa_token").to_owned();
    assert!(token.len() >= 32, "{token}");
    assert_eq!(
        body,
        json!({"detail": "LOGIN_2FA_REQUIRED", "error": "mfa_required", "mfa_token": token})
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    token
}

/// `POST /auth/{backend}/login/2fa` with a JSON body.
async fn second(http: &Http, backend: &str, body: Value) -> Reply {
    http.send(
        Method::POST,
        &format!("/auth/{backend}/login/2fa"),
        None,
        Some(&body),
    )
    .await
}

/// `POST path` with a bearer token and a JSON body.
async fn post(http: &Http, path: &str, token: &str, body: Value) -> Reply {
    http.send(Method::POST, path, Some(token), Some(&body))
        .await
}

#[track_caller]
fn assert_detail(reply: &Reply, status: u16, detail: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.json(), json!({ "detail": detail }));
}

#[track_caller]
fn assert_grant_refusal(reply: &Reply, detail: &str) {
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({ "detail": detail, "error": "invalid_grant" })
    );
}

/// The bearer login response: asserts it and answers the access token.
#[track_caller]
fn bearer(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(body, json!({"access_token": token, "token_type": "bearer"}));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    token
}

/// Every `Set-Cookie` of a reply.
fn set_cookies(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect()
}

/// The value a `Set-Cookie` named `name` sets, if any.
fn cookie_value(reply: &Reply, name: &str) -> Option<String> {
    set_cookies(reply).into_iter().find_map(|cookie| {
        let pair = cookie.split(';').next()?;
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

impl App {
    /// The current code of `secret` on the application's clock.
    fn code(&self, secret: &str) -> String {
        totp::code(secret, self.clock.now())
    }

    /// The current time step.
    fn step(&self) -> i64 {
        self.clock.now() / 30
    }

    /// Moves to the next time step (codes of the last are spent).
    fn next_step(&self) {
        self.clock.advance(30);
    }

    /// A code that does not check now: the current step's, one digit changed
    /// (a one-in-a-hundred-thousand chance of matching a neighbouring step's aside).
    fn wrong_code(&self, secret: &str) -> String {
        let right = self.code(secret);
        let last = right.as_bytes()[5] - b'0';
        format!("{}{}", &right[..5], (last + 1) % 10)
    }

    /// Registers `email` and signs it in on the bearer backend.
    async fn user(&self, email: &str) -> (String, String) {
        let id = self.a.register(email, PASSWORD).await;
        let token = self.a.login("jwt", email, PASSWORD).await;
        (id, token)
    }

    /// Enrols the user of the fresh `token`: the secret and the recovery codes. Moves
    /// to the next step (the confirming code is spent).
    async fn enrol(&self, token: &str) -> (String, Vec<String>) {
        let reply = post(&self.a, "/users/me/2fa/totp", token, json!({})).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let secret = reply.json()["secret"].as_str().unwrap().to_owned();
        let reply = post(
            &self.a,
            "/users/me/2fa/totp/confirm",
            token,
            json!({ "code": self.code(&secret) }),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let codes = reply.json()["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap().to_owned())
            .collect();
        self.next_step();
        (secret, codes)
    }

    /// Signs `email` in with the password and a code, on the bearer backend of
    /// `http`; moves to the next step.
    async fn mfa_login(&self, http: &Http, email: &str, secret: &str) -> String {
        let mfa_token = challenge(&login(http, "jwt", email, PASSWORD).await);
        let reply = second(
            http,
            "jwt",
            json!({ "mfa_token": mfa_token, "code": self.code(secret) }),
        )
        .await;
        self.next_step();
        bearer(&reply)
    }

    /// `GET /users/me/2fa`.
    async fn status(&self, token: &str) -> Value {
        let reply = self
            .a
            .send(Method::GET, "/users/me/2fa", Some(token), None)
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()
    }

    /// Makes `email` a superuser.
    async fn make_superuser(&self, email: &str) {
        let store = self.warden.manager().store();
        let mut user = store.get_by_email(email).await.unwrap().unwrap();
        user.is_superuser = true;
        store.update(user).await.unwrap();
    }
}

fn status_json(enabled: bool, pending: bool, left: usize, required: bool) -> Value {
    json!({
        "enabled": enabled,
        "methods": if enabled { vec!["totp"] } else { Vec::new() },
        "pending": pending,
        "recovery_codes_left": left,
        "required": required,
    })
}

// ---------------------------------------------------------------------------
// The independent generator.

/// The independent generator agrees with RFC 6238 Appendix B (SHA-1 rows, the 20-byte
/// ASCII seed; the last six of the eight digits).
#[test]
fn independent_totp_matches_rfc6238_appendix_b() {
    let secret = data_encoding::BASE32.encode(b"12345678901234567890");
    for (unix, eight) in [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ] {
        assert_eq!(totp::code(&secret, unix), eight[2..]);
        assert_eq!(totp::code_at_step(&secret, unix / 30), eight[2..]);
    }
}

// ---------------------------------------------------------------------------
// 1. Enrolment.

async fn enrolment_flow(app: &App) {
    let (_, token) = app.user("ann@example.com").await;
    assert_eq!(
        app.status(&token).await,
        status_json(false, false, 0, false)
    );

    // Nothing pending to confirm.
    let reply = post(
        &app.a,
        "/users/me/2fa/totp/confirm",
        &token,
        json!({"code": "123456"}),
    )
    .await;
    assert_detail(&reply, 400, "TWO_FACTOR_NOT_ENABLED");

    // A stale sign-in may not enrol (a stolen session alone must not add a factor).
    app.clock.advance(301);
    let reply = post(&app.a, "/users/me/2fa/totp", &token, json!({})).await;
    assert_detail(&reply, 401, "REAUTHENTICATION_REQUIRED");
    assert_eq!(
        reply.header("www-authenticate"),
        Some(r#"Bearer error="insufficient_user_authentication", max_age=300"#)
    );

    let token = app.a.login("jwt", "ann@example.com", PASSWORD).await;
    let reply = post(&app.a, "/users/me/2fa/totp", &token, json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.json();
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 32, "at least 160 bits: {secret}");
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
    );
    assert_eq!(
        body["otpauth_uri"],
        format!(
            "otpauth://totp/Warden%20Tests:ann@example.com?secret={secret}&issuer=Warden%20Tests&algorithm=SHA1&digits=6&period=30"
        )
    );
    let svg = body["qr_svg"].as_str().unwrap();
    assert!(
        svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
    assert_eq!(app.status(&token).await, status_json(false, true, 0, false));

    // Another session, signed in with the password alone before 2FA is on.
    let bystander = app.a.login("jwt", "ann@example.com", PASSWORD).await;

    // A wrong code turns nothing on; the right one does, with ten recovery codes.
    let reply = post(
        &app.a,
        "/users/me/2fa/totp/confirm",
        &token,
        json!({"code": app.wrong_code(&secret)}),
    )
    .await;
    assert_detail(&reply, 400, "TWO_FACTOR_BAD_CODE");
    assert_eq!(app.status(&token).await, status_json(false, true, 0, false));
    let reply = post(
        &app.a,
        "/users/me/2fa/totp/confirm",
        &token,
        json!({"code": app.code(&secret)}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.json();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let mut codes: Vec<&str> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 10);
    for code in &codes {
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 3, "{code}");
        assert!(groups.iter().all(|g| g.len() == 4), "{code}");
    }
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), 10, "distinct");
    assert_eq!(
        app.status(&token).await,
        status_json(true, false, 10, false)
    );
    // Nothing pending any more.
    let reply = post(
        &app.a,
        "/users/me/2fa/totp/confirm",
        &token,
        json!({"code": app.code(&secret)}),
    )
    .await;
    assert_detail(&reply, 400, "TWO_FACTOR_NOT_ENABLED");
    app.next_step();

    // The session signed in with the password alone (before 2FA was on) may not
    // replace the secret, fresh as it is: that would change the factor without it
    // (its re-authentication would need a code).
    let reply = post(&app.a, "/users/me/2fa/totp", &bystander, json!({})).await;
    assert_detail(&reply, 401, "REAUTHENTICATION_REQUIRED");
    assert_eq!(
        reply.header("www-authenticate"),
        Some(
            r#"Bearer error="insufficient_user_authentication", acr_values="urn:example:mfa", max_age=300"#
        )
    );
    assert_eq!(
        app.status(&bystander).await,
        status_json(true, false, 10, false)
    );

    let token = app.mfa_login(&app.a, "ann@example.com", &secret).await;
    let reply = post(&app.a, "/users/me/2fa/totp", &token, json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let renewed = reply.json()["secret"].as_str().unwrap().to_owned();
    assert_ne!(renewed, secret);
    assert_eq!(app.status(&token).await, status_json(true, true, 10, false));
    let _ = app.mfa_login(&app.a, "ann@example.com", &secret).await;
    let reply = post(
        &app.a,
        "/users/me/2fa/totp/confirm",
        &token,
        json!({"code": app.code(&renewed)}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        app.status(&token).await,
        status_json(true, false, 10, false)
    );
    app.next_step();
    // Only the new one now.
    let mfa_token = challenge(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);
    let reply = second(
        &app.a,
        "jwt",
        json!({"mfa_token": mfa_token, "code": app.code(&secret)}),
    )
    .await;
    assert_detail(&reply, 400, "LOGIN_2FA_BAD_CODE");
    let reply = second(
        &app.a,
        "jwt",
        json!({"mfa_token": mfa_token, "code": app.code(&renewed)}),
    )
    .await;
    bearer(&reply);
}

on_every_store!(enrolment, enrolment_flow);

// ---------------------------------------------------------------------------
// 2. The second step, in both spellings.

async fn login_flow(app: &App) {
    let (_, token) = app.user("ann@example.com").await;
    let (secret, recovery) = app.enrol(&token).await;

    // The password alone: a challenge, never a token.
    let reply = login(&app.a, "jwt", "ann@example.com", PASSWORD).await;
    let mfa_token = challenge(&reply);
    assert!(!reply.text.contains("access_token"));
    assert!(
        cookie_value(&reply, "warden_mfa").is_none(),
        "a bearer backend binds nothing: {:?}",
        set_cookies(&reply)
    );
    // Malformed second steps are clean 4xx, and spend nothing.
    for body in [
        json!({"code": "123456"}),
        json!({"mfa_token": mfa_token}),
        json!({"mfa_token": mfa_token, "code": "123456", "recovery_code": "abcd-efgh-jkmn"}),
        json!({"mfa_token": mfa_token, "code": "1".repeat(65)}),
        json!({"mfa_token": "x".repeat(129), "code": "123456"}),
        json!({"mfa_token": mfa_token, "code": 123456}),
    ] {
        let reply = second(&app.a, "jwt", body.clone()).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text);
    }
    for code in ["", "12345", "1234567", "abcdef", "12 345", "\u{0}"] {
        let reply = second(
            &app.a,
            "jwt",
            json!({"mfa_token": "not-a-token", "code": code}),
        )
        .await;
        assert!(
            [400, 422].contains(&reply.status),
            "{code:?}: {}",
            reply.text
        );
    }
    // A wrong password is still the plain refusal.
    let reply = login(&app.a, "jwt", "ann@example.com", "wrong-password").await;
    assert_detail(&reply, 400, "LOGIN_BAD_CREDENTIALS");

    // JSON at login/2fa: a wrong code, then the right one on the same token.
    let reply = second(
        &app.a,
        "jwt",
        json!({"mfa_token": mfa_token, "code": app.wrong_code(&secret)}),
    )
    .await;
    assert_detail(&reply, 400, "LOGIN_2FA_BAD_CODE");
    let reply = second(
        &app.a,
        "jwt",
        json!({"mfa_token": mfa_token, "code": app.code(&secret)}),
    )
    .await;
    let access = bearer(&reply);
    let claims_ = claims(&access);
    assert_eq!(claims_["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims_["acr"], ACR);
    assert_eq!(app.a.me(&access).await.status, 200);
    app.next_step();

    // A form at login/2fa, with Auth0's `otp` name.
    let mfa_token = challenge(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);
    let code = app.code(&secret);
    let reply = form(
        &app.a,
        "/auth/jwt/login/2fa",
        &[("mfa_token", &mfa_token), ("otp", &code)],
    )
    .await;
    let access = bearer(&reply);
    assert_eq!(claims(&access)["amr"], json!(["pwd", "otp", "mfa"]));
    app.next_step();

    // Auth0's grant types at the login route.
    let mfa_token = challenge(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);
    let wrong = app.wrong_code(&secret);
    let reply = form(
        &app.a,
        "/auth/jwt/login",
        &[
            ("grant_type", MFA_OTP),
            ("mfa_token", &mfa_token),
            ("otp", &wrong),
        ],
    )
    .await;
    assert_grant_refusal(&reply, "LOGIN_2FA_BAD_CODE");
    let reply = form(
        &app.a,
        "/auth/jwt/login",
        &[
            ("grant_type", MFA_OTP),
            ("mfa_token", "not-a-token"),
            ("otp", &wrong),
        ],
    )
    .await;
    assert_grant_refusal(&reply, "LOGIN_2FA_BAD_TOKEN");
    let code = app.code(&secret);
    let reply = form(
        &app.a,
        "/auth/jwt/login",
        &[
            ("grant_type", MFA_OTP),
            ("mfa_token", &mfa_token),
            ("otp", &code),
        ],
    )
    .await;
    let access = bearer(&reply);
    let claims_ = claims(&access);
    assert_eq!(claims_["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims_["acr"], ACR);
    app.next_step();

    let mfa_token = challenge(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);
    let reply = form(
        &app.a,
        "/auth/jwt/login",
        &[
            ("grant_type", MFA_RECOVERY),
            ("mfa_token", &mfa_token),
            ("recovery_code", &recovery[0]),
        ],
    )
    .await;
    let access = bearer(&reply);
    let claims_ = claims(&access);
    assert_eq!(claims_["amr"], json!(["pwd", "recovery_code", "mfa"]));
    assert_eq!(claims_["acr"], ACR);

    // A recovery code as JSON at login/2fa.
    let mfa_token = challenge(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);
    let reply = second(
        &app.a,
        "jwt",
        json!({"mfa_token": mfa_token, "recovery_code": recovery[1]}),
    )
    .await;
    assert_eq!(
        claims(&bearer(&reply))["amr"],
        json!(["pwd", "recovery_code", "mfa"])
    );

    // The database strategy: the same challenge, then an opaque token.
    app.next_step();
    let mfa_token = challenge(&login(&app.a, "db", "ann@example.com", PASSWORD).await);
    let reply = second(
        &app.a,
        "db",
        json!({"mfa_token": mfa_token, "code": app.code(&secret)}),
    )
    .await;
    let opaque = bearer(&reply);
    assert!(!opaque.contains('.'), "opaque: {opaque}");
    assert_eq!(app.a.me(&opaque).await.status, 200);
    assert_eq!(
        app.a
            .send(Method::GET, "/mfa-route", Some(&opaque), None)
            .await
            .status,
        200
    );
    app.next_step();

    // The cookie backend: the challenge binds the browser; the step sets the cookie.
    let browser = Http::browser(app.a.base.clone());
    let reply = login(&browser, "cookie", "ann@example.com", PASSWORD).await;
    let mfa_token = challenge(&reply);
    assert!(
        cookie_value(&reply, "warden_mfa").is_some_and(|v| !v.is_empty()),
        "{:?}",
        set_cookies(&reply)
    );
    assert!(cookie_value(&reply, "fastapiusersauth").is_none());
    let reply = second(
        &browser,
        "cookie",
        json!({"mfa_token": mfa_token, "code": app.code(&secret)}),
    )
    .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let session = cookie_value(&reply, "fastapiusersauth").expect("the session cookie");
    assert_eq!(claims(&session)["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(
        cookie_value(&reply, "warden_mfa").as_deref(),
        Some(""),
        "cleared"
    );
    let reply = browser.send(Method::GET, "/users/me", None, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

on_every_store!(second_step, login_flow);

// ---------------------------------------------------------------------------
// 3. Replay (RFC 6238 §5.2) and skew.

async fn replay_flow(app: &App) {
    let (_, token) = app.user("ann@example.com").await;
    let (secret, _) = app.enrol(&token).await;
    let step = app.step();
    let at = |offset: i64| totp::code_at_step(&secret, step + offset);

    let pass = async |code: String| {
        let mfa_token = challenge(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);
        second(&app.a, "jwt", json!({"mfa_token": mfa_token, "code": code})).await
    };

    // Accepted once, then refused at the next login in the same step.
    bearer(&pass(at(0)).await);
    assert_detail(&pass(at(0)).await, 400, "LOGIN_2FA_BAD_CODE");
    // One step ahead (a fast phone) is accepted; then the current step's code,
    // earlier than the one used, is refused.
    bearer(&pass(at(1)).await);
    assert_detail(&pass(at(0)).await, 400, "LOGIN_2FA_BAD_CODE");
    // Two steps on: one step behind (a slow phone) is accepted, the step it used
    // before refused, and two steps off either way too.
    app.clock.advance(3 * 30);
    // Now at step + 3: step + 2 is one behind.
    bearer(&pass(at(2)).await);
    assert_detail(&pass(at(2)).await, 400, "LOGIN_2FA_BAD_CODE");
    assert_detail(&pass(at(1)).await, 400, "LOGIN_2FA_BAD_CODE");
    assert_detail(&pass(at(5)).await, 400, "LOGIN_2FA_BAD_CODE");
    bearer(&pass(at(3)).await);
    bearer(&pass(at(4)).await);
    assert_detail(&pass(at(4)).await, 400, "LOGIN_2FA_BAD_CODE");

    // One code raced on two sign-ins (on two instances where there are two): one wins.
    // (Step + 4 was used, one step early: move past it.)
    app.clock.advance(2 * 30);
    let code = app.code(&secret);
    let first = challenge(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);
    let other = challenge(&login(&app.b, "jwt", "ann@example.com", PASSWORD).await);
    let (x, y) = tokio::join!(
        second(&app.a, "jwt", json!({"mfa_token": first, "code": code})),
        second(&app.b, "jwt", json!({"mfa_token": other, "code": code})),
    );
    let mut statuses = [x.status, y.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400], "{} / {}", x.text, y.text);
}

on_every_store!(replayed_and_earlier_codes, replay_flow);

// ---------------------------------------------------------------------------
// 4. Recovery codes.

async fn recovery_flow(app: &App) {
    let (_, token) = app.user("ann@example.com").await;
    // Regenerating needs 2FA on.
    let reply = post(
        &app.a,
        "/users/me/2fa/recovery-codes",
        &token,
        json!({"code": "123456"}),
    )
    .await;
    assert_detail(&reply, 400, "TWO_FACTOR_NOT_ENABLED");
    let (secret, recovery) = app.enrol(&token).await;

    let with_recovery = async |code: &str| {
        let mfa_token = challenge(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);
        second(
            &app.a,
            "jwt",
            json!({"mfa_token": mfa_token, "recovery_code": code}),
        )
        .await
    };
    bearer(&with_recovery(&recovery[0]).await);
    assert_eq!(app.status(&token).await, status_json(true, false, 9, false));
    assert_detail(
        &with_recovery(&recovery[0]).await,
        400,
        "LOGIN_2FA_BAD_CODE",
    );
    // Typed without dashes, in capitals: the same code.
    let typed = recovery[1].replace('-', "").to_uppercase();
    bearer(&with_recovery(&typed).await);
    assert_eq!(app.status(&token).await, status_json(true, false, 8, false));
    assert_detail(
        &with_recovery(&recovery[1]).await,
        400,
        "LOGIN_2FA_BAD_CODE",
    );
    assert_eq!(app.status(&token).await, status_json(true, false, 8, false));

    // New codes need a code from the app; they void the old ones.
    let reply = post(
        &app.a,
        "/users/me/2fa/recovery-codes",
        &token,
        json!({"code": app.wrong_code(&secret)}),
    )
    .await;
    assert_detail(&reply, 400, "TWO_FACTOR_BAD_CODE");
    let reply = post(
        &app.a,
        "/users/me/2fa/recovery-codes",
        &token,
        json!({"code": app.code(&secret)}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let renewed: Vec<String> = reply.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(renewed.len(), 10);
    assert!(renewed.iter().all(|code| !recovery.contains(code)));
    assert_eq!(
        app.status(&token).await,
        status_json(true, false, 10, false)
    );
    assert_detail(
        &with_recovery(&recovery[2]).await,
        400,
        "LOGIN_2FA_BAD_CODE",
    );
    bearer(&with_recovery(&renewed[0]).await);
    assert_eq!(app.status(&token).await, status_json(true, false, 9, false));
}

on_every_store!(recovery_codes, recovery_flow);

// ---------------------------------------------------------------------------
// 5. The mfa_token.

async fn mfa_token_flow(app: &App) {
    let (_, token) = app.user("ann@example.com").await;
    let (secret, _) = app.enrol(&token).await;
    let start = async || challenge(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);
    let answer = async |mfa_token: &str, code: String| {
        second(&app.a, "jwt", json!({"mfa_token": mfa_token, "code": code})).await
    };

    // Unknown.
    assert_detail(
        &answer("not-a-token", app.code(&secret)).await,
        400,
        "LOGIN_2FA_BAD_TOKEN",
    );

    // Five minutes.
    let mfa_token = start().await;
    app.clock.advance(301);
    assert_detail(
        &answer(&mfa_token, app.code(&secret)).await,
        400,
        "LOGIN_2FA_BAD_TOKEN",
    );

    // Five tries, then even the right code is refused.
    let mfa_token = start().await;
    for _ in 0..5 {
        assert_detail(
            &answer(&mfa_token, app.wrong_code(&secret)).await,
            400,
            "LOGIN_2FA_BAD_CODE",
        );
    }
    assert_detail(
        &answer(&mfa_token, app.code(&secret)).await,
        400,
        "LOGIN_2FA_BAD_TOKEN",
    );
    // The right code was not spent by the refusal: a new token takes it.
    let fresh = start().await;
    bearer(&answer(&fresh, app.code(&secret)).await);
    app.next_step();

    // Single use.
    assert_detail(
        &answer(&fresh, app.code(&secret)).await,
        400,
        "LOGIN_2FA_BAD_TOKEN",
    );

    // Another backend's route refuses it (and spends no code: its own then takes it).
    let mfa_token = start().await;
    let reply = second(
        &app.a,
        "cookie",
        json!({"mfa_token": mfa_token, "code": app.code(&secret)}),
    )
    .await;
    assert_detail(&reply, 400, "LOGIN_2FA_BAD_TOKEN");
    bearer(&answer(&mfa_token, app.code(&secret)).await);
    app.next_step();

    // On the cookie backend the token is bound to the browser that got it.
    let browser = Http::browser(app.a.base.clone());
    let mfa_token = challenge(&login(&browser, "cookie", "ann@example.com", PASSWORD).await);
    let body = json!({"mfa_token": mfa_token, "code": app.code(&secret)});
    // Without its cookie (the token leaked from the page).
    assert_detail(
        &second(&app.a, "cookie", body.clone()).await,
        400,
        "LOGIN_2FA_BAD_TOKEN",
    );
    // With another browser's.
    let other = Http::browser(app.a.base.clone());
    let _ = challenge(&login(&other, "cookie", "ann@example.com", PASSWORD).await);
    assert_detail(
        &second(&other, "cookie", body.clone()).await,
        400,
        "LOGIN_2FA_BAD_TOKEN",
    );
    // A forged cookie of the right name.
    let reply = Reply::read(
        app.a
            .client
            .post(format!("{}/auth/cookie/login/2fa", app.a.base))
            .header("cookie", "warden_mfa=forged")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_detail(&reply, 400, "LOGIN_2FA_BAD_TOKEN");
    // Its own browser: signed in.
    let reply = second(&browser, "cookie", body).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
}

on_every_store!(mfa_token, mfa_token_flow);

// ---------------------------------------------------------------------------
// 6. Policy.

/// What a limited session may and may not do; `token` is one.
async fn assert_limited(app: &App, token: &str) {
    let refused = |reply: Reply| assert_detail(&reply, 403, "TWO_FACTOR_ENROLMENT_REQUIRED");
    assert_eq!(app.a.me(token).await.status, 200);
    let reply = app
        .a
        .send(Method::GET, "/users/me/2fa", Some(token), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["required"], true);
    refused(
        app.a
            .send(Method::GET, "/authenticated-route", Some(token), None)
            .await,
    );
    refused(
        app.a
            .send(Method::GET, "/users/me/sessions", Some(token), None)
            .await,
    );
    refused(
        app.a
            .send(
                Method::PATCH,
                "/users/me",
                Some(token),
                Some(&json!({"first_name": "x"})),
            )
            .await,
    );
    refused(
        post(
            &app.a,
            "/users/me/2fa/recovery-codes",
            token,
            json!({"code": "123456"}),
        )
        .await,
    );
    refused(post(&app.a, "/users/me/2fa/forget-devices", token, json!({})).await);
    refused(
        post(
            &app.a,
            "/users/me/2fa/disable",
            token,
            json!({"code": "123456", "password": PASSWORD}),
        )
        .await,
    );
    refused(
        app.a
            .send(Method::DELETE, "/users/me/sessions", Some(token), None)
            .await,
    );
    refused(post(&app.a, "/auth/jwt/refresh", token, json!({})).await);
    // The step-up route says the same: enrol first.
    refused(
        app.a
            .send(Method::GET, "/mfa-route", Some(token), None)
            .await,
    );
    // Re-authentication is served (a limited session can make itself fresh to enrol).
    let reply = post(
        &app.a,
        "/auth/jwt/reauthenticate",
        token,
        json!({"password": PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

/// Enrolling lifts the limit for that session (every token of it), even when the
/// session had to re-authenticate to enrol.
async fn assert_enrolment_lifts(app: &App, email: &str, token: &str) {
    app.clock.advance(301);
    let reply = post(&app.a, "/users/me/2fa/totp", token, json!({})).await;
    assert_detail(&reply, 401, "REAUTHENTICATION_REQUIRED");
    let reply = post(
        &app.a,
        "/auth/jwt/reauthenticate",
        token,
        json!({"password": PASSWORD}),
    )
    .await;
    let renewed = bearer(&reply);
    assert_detail(
        &app.a
            .send(Method::GET, "/authenticated-route", Some(&renewed), None)
            .await,
        403,
        "TWO_FACTOR_ENROLMENT_REQUIRED",
    );
    let (secret, _) = app.enrol(&renewed).await;
    let reply = app
        .a
        .send(Method::GET, "/authenticated-route", Some(token), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reply = app
        .a
        .send(Method::GET, "/users/me/sessions", Some(token), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        app.a
            .send(Method::GET, "/mfa-route", Some(token), None)
            .await
            .status,
        200
    );
    // New sign-ins now ask for the code, and get a full session with it.
    let full = app.mfa_login(&app.a, email, &secret).await;
    assert_eq!(
        app.a
            .send(Method::GET, "/users/me/sessions", Some(&full), None)
            .await
            .status,
        200
    );
}

async fn everyone_flow(app: &App) {
    let (_, token) = app.user("ann@example.com").await;
    assert_limited(app, &token).await;
    assert_eq!(app.status(&token).await, status_json(false, false, 0, true));
    assert_enrolment_lifts(app, "ann@example.com", &token).await;
    // Logout is served to a limited session.
    let (_, bob) = app.user("bob@example.com").await;
    let reply = post(&app.a, "/auth/jwt/logout", &bob, json!({})).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(app.a.me(&bob).await.status, 401);
}

async fn superusers_flow(app: &App) {
    app.a.register("root@example.com", PASSWORD).await;
    app.make_superuser("root@example.com").await;
    let root = app.a.login("jwt", "root@example.com", PASSWORD).await;
    assert_limited(app, &root).await;
    // A user the policy does not require is unaffected.
    let (_, bob) = app.user("bob@example.com").await;
    assert_eq!(app.status(&bob).await, status_json(false, false, 0, false));
    for path in ["/authenticated-route", "/users/me/sessions"] {
        let reply = app.a.send(Method::GET, path, Some(&bob), None).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    }
    assert_enrolment_lifts(app, "root@example.com", &root).await;
}

mod everyone {
    use super::*;

    const CONFIG: Config = Config {
        policy: TwoFactorPolicy::Everyone,
        remember: false,
        per_account: None,
    };
    async fn memory() -> App {
        memory_with(CONFIG).await
    }
    async fn sqlite(dir: &tempfile::TempDir) -> App {
        sqlite_with(dir, CONFIG).await
    }
    async fn postgres(test: &str) -> Option<App> {
        postgres_with(test, CONFIG).await
    }

    on_every_store!(policy_limits_sessions, everyone_flow);
}

mod superusers {
    use super::*;

    const CONFIG: Config = Config {
        policy: TwoFactorPolicy::Superusers,
        remember: false,
        per_account: None,
    };
    async fn memory() -> App {
        memory_with(CONFIG).await
    }
    async fn sqlite(dir: &tempfile::TempDir) -> App {
        sqlite_with(dir, CONFIG).await
    }
    async fn postgres(test: &str) -> Option<App> {
        postgres_with(test, CONFIG).await
    }

    on_every_store!(policy_limits_sessions, superusers_flow);
}

// ---------------------------------------------------------------------------
// 7. Remembered devices.

/// The second step of `browser` on the cookie backend, remembering it or not.
async fn browser_second_step(app: &App, browser: &Http, secret: &str, remember: bool) -> Reply {
    let mfa_token = challenge(&login(browser, "cookie", "ann@example.com", PASSWORD).await);
    let reply = second(
        browser,
        "cookie",
        json!({"mfa_token": mfa_token, "code": app.code(secret), "remember_device": remember}),
    )
    .await;
    app.next_step();
    assert_eq!(reply.status, 204, "{}", reply.text);
    reply
}

/// Remembers `browser` and checks that its next login skips the code.
async fn remember(app: &App, browser: &Http, secret: &str) {
    let reply = browser_second_step(app, browser, secret, true).await;
    let trusted = set_cookies(&reply)
        .into_iter()
        .find(|c| c.starts_with("warden_trusted_device="))
        .expect("the remembered-device cookie");
    assert!(
        trusted.contains(&format!("Max-Age={}", REMEMBER_DAYS * 86_400)),
        "{trusted}"
    );
    assert!(
        trusted.contains("HttpOnly") && trusted.contains("SameSite=Strict"),
        "{trusted}"
    );
    let reply = login(browser, "cookie", "ann@example.com", PASSWORD).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let session = cookie_value(&reply, "fastapiusersauth").unwrap();
    assert_eq!(
        claims(&session)["amr"],
        json!(["pwd", "trusted_device", "mfa"])
    );
    assert_eq!(claims(&session)["acr"], ACR);
}

/// `browser` is asked for a code again.
async fn assert_forgotten(browser: &Http, password: &str) {
    challenge(&login(browser, "cookie", "ann@example.com", password).await);
}

async fn remember_flow(app: &App) {
    let (_, token) = app.user("ann@example.com").await;
    let (secret, _) = app.enrol(&token).await;
    let browser = Http::browser(app.a.base.clone());

    // Not asked: no cookie, and the next login asks again.
    let reply = browser_second_step(app, &browser, &secret, false).await;
    assert!(cookie_value(&reply, "warden_trusted_device").is_none());
    assert_forgotten(&browser, PASSWORD).await;
    remember(app, &browser, &secret).await;
    // Another browser is not remembered; nor, in this one, another user.
    assert_forgotten(&Http::browser(app.a.base.clone()), PASSWORD).await;
    let (_, bob) = app.user("bob@example.com").await;
    let _ = app.enrol(&bob).await;
    challenge(&login(&browser, "cookie", "bob@example.com", PASSWORD).await);

    // Asked for in a form (what an HTML page posts), in either spelling.
    let forget = async || {
        let token = app.mfa_login(&app.a, "ann@example.com", &secret).await;
        let reply = post(&app.a, "/users/me/2fa/forget-devices", &token, json!({})).await;
        assert_eq!(reply.status, 204, "{}", reply.text);
        app.clock.advance(1);
        assert_forgotten(&browser, PASSWORD).await;
    };
    forget().await;
    for (path, code_field, extra) in [
        ("/auth/cookie/login/2fa", "code", None),
        ("/auth/cookie/login", "otp", Some(("grant_type", MFA_OTP))),
    ] {
        let mfa_token = challenge(&login(&browser, "cookie", "ann@example.com", PASSWORD).await);
        let code = app.code(&secret);
        let mut pairs = vec![
            ("mfa_token", mfa_token.as_str()),
            (code_field, code.as_str()),
            ("remember_device", "true"),
        ];
        pairs.extend(extra);
        let reply = form(&browser, path, &pairs).await;
        app.next_step();
        assert_eq!(reply.status, 204, "{path}: {}", reply.text);
        assert!(
            cookie_value(&reply, "warden_trusted_device").is_some(),
            "{path}"
        );
        let reply = login(&browser, "cookie", "ann@example.com", PASSWORD).await;
        assert_eq!(reply.status, 204, "{path}: {}", reply.text);
        forget().await;
    }
    remember(app, &browser, &secret).await;

    // A bearer backend never sets it.
    let mfa_token = challenge(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);
    let reply = second(
        &app.a,
        "jwt",
        json!({"mfa_token": mfa_token, "code": app.code(&secret), "remember_device": true}),
    )
    .await;
    app.next_step();
    let token = bearer(&reply);
    // (The throttle's device cookie is set on every backend, as after a password
    // login; the remembered-device cookie is not.)
    assert!(
        set_cookies(&reply)
            .iter()
            .all(|cookie| !cookie.contains("warden_trusted_device")),
        "{:?}",
        set_cookies(&reply)
    );

    // Forget devices.
    let reply = post(&app.a, "/users/me/2fa/forget-devices", &token, json!({})).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_forgotten(&browser, PASSWORD).await;
    app.clock.advance(1);
    remember(app, &browser, &secret).await;

    // A password change.
    app.a.change_password(&token, NEW_PASSWORD).await;
    app.clock.advance(1);
    let mfa_token = challenge(&login(&browser, "cookie", "ann@example.com", NEW_PASSWORD).await);
    // (The change ended every session; back to the old password for the rest.)
    let reply = second(&app.a, "jwt", json!({"mfa_token": challenge(&login(&app.a, "jwt", "ann@example.com", NEW_PASSWORD).await), "code": app.code(&secret)})).await;
    app.next_step();
    app.a.change_password(&bearer(&reply), PASSWORD).await;
    drop(mfa_token);
    app.clock.advance(1);
    remember(app, &browser, &secret).await;

    // Log out everywhere.
    let token = app.mfa_login(&app.a, "ann@example.com", &secret).await;
    let reply = app
        .a
        .send(Method::DELETE, "/users/me/sessions", Some(&token), None)
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    app.clock.advance(1);
    assert_forgotten(&browser, PASSWORD).await;
    remember(app, &browser, &secret).await;

    // Turning 2FA off (and on again).
    let token = app.mfa_login(&app.a, "ann@example.com", &secret).await;
    let reply = post(
        &app.a,
        "/users/me/2fa/disable",
        &token,
        json!({"code": app.code(&secret), "password": PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    app.clock.advance(1);
    let token = app.a.login("jwt", "ann@example.com", PASSWORD).await;
    let _ = app.enrol(&token).await;
    assert_forgotten(&browser, PASSWORD).await;
}

on_every_store!(remembered_devices, remember_flow);

/// Without `remember_device(days)`, asking to be remembered sets nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remembering_needs_configuring() {
    let app = memory_with(Config {
        remember: false,
        ..OPTIONAL
    })
    .await;
    let (_, token) = app.user("ann@example.com").await;
    let (secret, _) = app.enrol(&token).await;
    let browser = Http::browser(app.a.base.clone());
    let reply = browser_second_step(&app, &browser, &secret, true).await;
    assert!(cookie_value(&reply, "warden_trusted_device").is_none());
    assert_forgotten(&browser, PASSWORD).await;
}

// ---------------------------------------------------------------------------
// 8. Step-up.

async fn step_up_flow(app: &App) {
    let (_, old) = app.user("ann@example.com").await;
    let reply = app
        .a
        .send(Method::GET, "/mfa-route", Some(&old), None)
        .await;
    assert_detail(&reply, 401, "REAUTHENTICATION_REQUIRED");
    assert_eq!(reply.header("www-authenticate"), Some(STEP_UP));

    // Enrolled in another session: that one passes, the old one still does not.
    let enrolling = app.a.login("jwt", "ann@example.com", PASSWORD).await;
    let (secret, recovery) = app.enrol(&enrolling).await;
    assert_eq!(
        app.a
            .send(Method::GET, "/mfa-route", Some(&enrolling), None)
            .await
            .status,
        200
    );
    let reply = app
        .a
        .send(Method::GET, "/mfa-route", Some(&old), None)
        .await;
    assert_detail(&reply, 401, "REAUTHENTICATION_REQUIRED");
    assert_eq!(reply.header("www-authenticate"), Some(STEP_UP));

    // A sign-in with the code passes.
    let full = app.mfa_login(&app.a, "ann@example.com", &secret).await;
    let reply = app
        .a
        .send(Method::GET, "/mfa-route", Some(&full), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({"message": "Hello ann@example.com, second factor seen!"})
    );
    // A refresh continues the session as it was proved.
    let refreshed = bearer(&post(&app.a, "/auth/jwt/refresh", &full, json!({})).await);
    assert_eq!(claims(&refreshed)["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims(&refreshed)["acr"], ACR);
    assert_eq!(
        app.a
            .send(Method::GET, "/mfa-route", Some(&refreshed), None)
            .await
            .status,
        200
    );

    // Re-authenticating the old session: the password alone is not enough.
    let reauth = async |body: Value| post(&app.a, "/auth/jwt/reauthenticate", &old, body).await;
    let reply = reauth(json!({"password": PASSWORD})).await;
    assert_eq!(reply.status, 403, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({"detail": "LOGIN_2FA_REQUIRED", "error": "mfa_required"})
    );
    let reply = reauth(json!({"password": PASSWORD, "code": app.wrong_code(&secret)})).await;
    assert_detail(&reply, 400, "LOGIN_2FA_BAD_CODE");
    let reply = reauth(json!({"password": "wrong-password", "code": app.code(&secret)})).await;
    assert_detail(&reply, 400, "LOGIN_BAD_CREDENTIALS");
    let reply = reauth(json!({"password": PASSWORD, "code": app.code(&secret)})).await;
    let upgraded = bearer(&reply);
    let claims_ = claims(&upgraded);
    assert_eq!(claims_["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims_["acr"], ACR);
    assert_eq!(claims_["sid"], claims(&old)["sid"], "the same session");
    assert_eq!(
        app.a
            .send(Method::GET, "/mfa-route", Some(&upgraded), None)
            .await
            .status,
        200
    );
    // With a recovery code too.
    let reply = reauth(json!({"password": PASSWORD, "recovery_code": recovery[0]})).await;
    assert_eq!(
        claims(&bearer(&reply))["amr"],
        json!(["pwd", "recovery_code", "mfa"])
    );
}

on_every_store!(step_up, step_up_flow);

// ---------------------------------------------------------------------------
// 9. Turning it off.

async fn disable_flow(app: &App) {
    let (_, token) = app.user("ann@example.com").await;
    let (secret, recovery) = app.enrol(&token).await;
    let disable =
        async |token: &str, body: Value| post(&app.a, "/users/me/2fa/disable", token, body).await;

    // A code is required.
    let reply = disable(&token, json!({"password": PASSWORD})).await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    let reply = disable(
        &token,
        json!({"password": PASSWORD, "code": app.wrong_code(&secret)}),
    )
    .await;
    assert_detail(&reply, 400, "TWO_FACTOR_BAD_CODE");
    // The password must be right.
    let reply = disable(
        &token,
        json!({"password": "wrong-password", "code": app.code(&secret)}),
    )
    .await;
    assert_detail(&reply, 400, "UPDATE_USER_BAD_CURRENT_PASSWORD");
    // Without a password, a fresh sign-in.
    app.clock.advance(301);
    let reply = disable(&token, json!({"recovery_code": recovery[0]})).await;
    assert_detail(&reply, 401, "REAUTHENTICATION_REQUIRED");
    assert_eq!(
        app.status(&token).await,
        status_json(true, false, 10, false)
    );
    let fresh = app.mfa_login(&app.a, "ann@example.com", &secret).await;
    let reply = disable(&fresh, json!({"recovery_code": recovery[0]})).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(
        app.status(&fresh).await,
        status_json(false, false, 0, false)
    );
    let reply = disable(&fresh, json!({"code": app.code(&secret)})).await;
    assert_detail(&reply, 400, "TWO_FACTOR_NOT_ENABLED");
    // The password alone signs in again.
    bearer(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);

    // With the password and a code (a stale session is fine then).
    let token = app.a.login("jwt", "ann@example.com", PASSWORD).await;
    let (secret, _) = app.enrol(&token).await;
    app.clock.advance(301);
    let reply = disable(
        &token,
        json!({"password": PASSWORD, "code": app.code(&secret)}),
    )
    .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    bearer(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);

    // A superuser's reset.
    let root_id = app.a.register("root@example.com", PASSWORD).await;
    app.make_superuser("root@example.com").await;
    let root = app.a.login("jwt", "root@example.com", PASSWORD).await;
    let (bob_id, bob) = app.user("bob@example.com").await;
    let (bob_secret, _) = app.enrol(&bob).await;
    let bob_full = app.mfa_login(&app.a, "bob@example.com", &bob_secret).await;
    let reply = app
        .a
        .send(
            Method::DELETE,
            &format!("/users/{root_id}/2fa"),
            Some(&bob),
            None,
        )
        .await;
    assert_detail(&reply, 403, "Forbidden");
    let unknown = uuid::Uuid::new_v4();
    let reply = app
        .a
        .send(
            Method::DELETE,
            &format!("/users/{unknown}/2fa"),
            Some(&root),
            None,
        )
        .await;
    assert_detail(&reply, 404, "Not Found");
    let reply = app
        .a
        .send(Method::DELETE, "/users/not-an-id/2fa", Some(&root), None)
        .await;
    assert_detail(&reply, 404, "Not Found");
    let reply = app
        .a
        .send(
            Method::DELETE,
            &format!("/users/{bob_id}/2fa"),
            Some(&root),
            None,
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    for token in [&bob, &bob_full] {
        common::assert_token_refused(&app.a.me(token).await);
        common::assert_token_refused(&app.b.me(token).await);
    }
    let bob = bearer(&login(&app.a, "jwt", "bob@example.com", PASSWORD).await);
    assert_eq!(app.status(&bob).await, status_json(false, false, 0, false));
}

on_every_store!(disable, disable_flow);

// ---------------------------------------------------------------------------
// 10. Two instances on one database.

async fn instances_flow(app: &App) {
    let (_, token) = app.user("ann@example.com").await;
    let (secret, _) = app.enrol(&token).await;

    // A code used on A is refused on B.
    let on_a = challenge(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);
    let on_b = challenge(&login(&app.b, "jwt", "ann@example.com", PASSWORD).await);
    let code = app.code(&secret);
    bearer(&second(&app.a, "jwt", json!({"mfa_token": on_a, "code": code})).await);
    assert_detail(
        &second(&app.b, "jwt", json!({"mfa_token": on_b, "code": code})).await,
        400,
        "LOGIN_2FA_BAD_CODE",
    );
    app.next_step();

    // A's mfa_token is redeemed once on B, then neither takes it.
    let on_a = challenge(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);
    bearer(
        &second(
            &app.b,
            "jwt",
            json!({"mfa_token": on_a, "code": app.code(&secret)}),
        )
        .await,
    );
    app.next_step();
    for http in [&app.a, &app.b] {
        assert_detail(
            &second(
                http,
                "jwt",
                json!({"mfa_token": on_a, "code": app.code(&secret)}),
            )
            .await,
            400,
            "LOGIN_2FA_BAD_TOKEN",
        );
    }

    // Tries count across instances: three on A and two on B use all five.
    let on_a = challenge(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);
    for http in [&app.a, &app.a, &app.a, &app.b, &app.b] {
        let body = json!({"mfa_token": on_a, "code": app.wrong_code(&secret)});
        assert_detail(&second(http, "jwt", body).await, 400, "LOGIN_2FA_BAD_CODE");
    }
    let body = json!({"mfa_token": on_a, "code": app.code(&secret)});
    assert_detail(
        &second(&app.a, "jwt", body).await,
        400,
        "LOGIN_2FA_BAD_TOKEN",
    );
}

on_both_stores!(two_instances, instances_flow);

// ---------------------------------------------------------------------------
// 11. Security events.

async fn events_flow(app: &App) {
    let (ann_id, token) = app.user("ann@example.com").await;
    let (secret, recovery) = app.enrol(&token).await;
    let from_agent = |body: Value| {
        app.a
            .client
            .post(format!("{}/auth/jwt/login/2fa", app.a.base))
            .header("user-agent", "warden-tests")
            .json(&body)
    };
    let reply = app
        .a
        .client
        .post(format!("{}/auth/jwt/login", app.a.base))
        .header("user-agent", "warden-tests")
        .form(&[("username", "ann@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let mfa_token = challenge(&Reply::read(reply).await);
    let body = json!({"mfa_token": mfa_token, "code": app.wrong_code(&secret)});
    let reply = Reply::read(from_agent(body).send().await.unwrap()).await;
    assert_detail(&reply, 400, "LOGIN_2FA_BAD_CODE");
    let reply = second(
        &app.a,
        "jwt",
        json!({"mfa_token": mfa_token, "recovery_code": recovery[0]}),
    )
    .await;
    let token = bearer(&reply);
    let reply = post(
        &app.a,
        "/users/me/2fa/recovery-codes",
        &token,
        json!({"code": app.code(&secret)}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let renewed: Vec<String> = reply.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    app.next_step();
    let reply = post(&app.a, "/users/me/2fa/forget-devices", &token, json!({})).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let reply = post(
        &app.a,
        "/users/me/2fa/disable",
        &token,
        json!({"code": app.code(&secret), "password": PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    // And a superuser's reset of Bob.
    app.a.register("root@example.com", PASSWORD).await;
    app.make_superuser("root@example.com").await;
    let root = app.a.login("jwt", "root@example.com", PASSWORD).await;
    let (bob_id, bob) = app.user("bob@example.com").await;
    let (bob_secret, bob_recovery) = app.enrol(&bob).await;
    let reply = app
        .a
        .send(
            Method::DELETE,
            &format!("/users/{bob_id}/2fa"),
            Some(&root),
            None,
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);

    // Events arrive from a background task: wait (at most 2 s) for the last ones.
    let all_named = async |name: &str, n: usize| {
        for _ in 0..400 {
            if app.events.named(name).await.len() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        app.events.named(name).await
    };
    let one = async |name: &str| all_named(name, 1).await;
    let requested = one("second_factor_requested").await;
    assert_eq!(requested[0]["user_id"], ann_id);
    assert_eq!(requested[0]["backend"], "jwt");
    // (The test server records no peer address: no `ConnectInfo`.)
    let client = json!({"address": null, "user_agent": "warden-tests"});
    assert_eq!(requested[0]["client"], client);
    let failed = one("second_factor_failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["user_id"], ann_id);
    assert_eq!(failed[0]["client"], client);
    let enabled = all_named("two_factor_enabled", 2).await;
    assert_eq!(
        enabled,
        vec![
            json!({"event": "two_factor_enabled", "user_id": ann_id, "email": "ann@example.com"}),
            json!({"event": "two_factor_enabled", "user_id": bob_id, "email": "bob@example.com"}),
        ]
    );
    assert_eq!(
        one("recovery_code_used").await,
        vec![
            json!({"event": "recovery_code_used", "user_id": ann_id, "email": "ann@example.com", "left": 9})
        ]
    );
    assert_eq!(
        one("recovery_codes_regenerated").await,
        vec![
            json!({"event": "recovery_codes_regenerated", "user_id": ann_id, "email": "ann@example.com"})
        ]
    );
    assert_eq!(
        one("trusted_devices_forgotten").await,
        vec![json!({"event": "trusted_devices_forgotten", "user_id": ann_id})]
    );
    assert_eq!(
        all_named("two_factor_disabled", 2).await,
        vec![
            json!({"event": "two_factor_disabled", "user_id": ann_id, "email": "ann@example.com", "by": "user"}),
            json!({"event": "two_factor_disabled", "user_id": bob_id, "email": "bob@example.com", "by": "superuser"}),
        ]
    );
    let ended = one("sessions_ended").await;
    assert!(
        ended.contains(
            &json!({"event": "sessions_ended", "user_id": bob_id, "reason": "two_factor_reset"})
        ),
        "{ended:?}"
    );

    // No secret in any event: TOTP secrets, recovery codes (as shown and as typed),
    // the mfa_token.
    let all = serde_json::to_string(&app.events.first(0).await).unwrap();
    let mut secrets = vec![secret, bob_secret, mfa_token];
    for code in recovery.iter().chain(&renewed).chain(&bob_recovery) {
        secrets.push(code.clone());
        secrets.push(code.replace('-', ""));
    }
    for secret in &secrets {
        assert!(!all.contains(secret.as_str()), "{secret} in {all}");
    }
}

on_every_store!(security_events, events_flow);

/// Wrong codes count in the account's login throttle: past its limit even the
/// right code is refused with 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_count_in_the_login_throttle() {
    let app = memory_with(Config {
        per_account: Some(3),
        ..OPTIONAL
    })
    .await;
    let (_, token) = app.user("ann@example.com").await;
    let (secret, _) = app.enrol(&token).await;
    let mfa_token = challenge(&login(&app.a, "jwt", "ann@example.com", PASSWORD).await);
    for _ in 0..3 {
        let body = json!({"mfa_token": mfa_token, "code": app.wrong_code(&secret)});
        assert_detail(
            &second(&app.a, "jwt", body).await,
            400,
            "LOGIN_2FA_BAD_CODE",
        );
    }
    let body = json!({"mfa_token": mfa_token, "code": app.code(&secret)});
    let reply = second(&app.a, "jwt", body).await;
    assert_detail(&reply, 429, "Too Many Requests");
    assert!(reply.header("retry-after").is_some());
}
