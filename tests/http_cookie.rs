//! End-to-end HTTP tests of the cookie transport (FastAPI Users' `CookieTransport`,
//! FastAPI Users' `CookieTransport`) and of several backends at once, over a real server.
//! reqwest runs without a cookie jar: every `Set-Cookie` is read and every `Cookie`
//! header written by hand.

mod common;

use axum::Router;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use uuid::Uuid;
use warden::{MemoryStore, User, Warden, WardenBuilder, auth_backend, protected};

use common::{Reply, Server};

const PASSWORD: &str = "correct horse battery";

/// FastAPI Users' defaults: `fastapiusersauth`, session cookie, `/`, Secure,
/// HttpOnly, SameSite=Lax.
#[auth_backend(
    name = "cookie",
    lifetime = 3600,
    secret = "cookie-secret-that-is-at-least-32-bytes-long",
    transport = cookie
)]
pub struct CookieBackend;

/// Every option.
#[auth_backend(
    name = "session",
    lifetime = 600,
    secret = "session-secret-that-is-at-least-32-bytes-long",
    transport = cookie(
        name = "session",
        max_age = 600,
        path = "/",
        domain = "example.com",
        secure = true,
        http_only = true,
        same_site = "strict"
    )
)]
pub struct Session;

/// The flags turned off, another path.
#[auth_backend(
    name = "loose",
    lifetime = 3600,
    secret = "loose-secret-that-is-at-least-32-bytes-long!",
    transport = cookie(
        name = "loose",
        path = "/api",
        secure = false,
        http_only = false,
        same_site = "lax"
    )
)]
pub struct Loose;

/// Cross-site: `SameSite=None`, which needs `Secure` (the default).
#[auth_backend(
    name = "cross",
    lifetime = 3600,
    secret = "cross-secret-that-is-at-least-32-bytes-long!",
    transport = cookie(name = "cross", same_site = "none", max_age = 86400)
)]
pub struct Cross;

/// Only the cookie backend's tokens count here.
#[protected(active, backend = CookieBackend)]
async fn cookie_only(user: User) -> axum::Json<Value> {
    axum::Json(json!({ "message": format!("Hello {} (cookie)!", user.email) }))
}

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

/// A server for `builder` (a store is added), with the demo routes and
/// `/cookie-only`.
async fn spawn(builder: WardenBuilder) -> Server {
    let warden = builder.store(MemoryStore::new()).build().unwrap();
    let app = Router::new()
        .route("/cookie-only", get(cookie_only))
        .with_state(warden.clone())
        .merge(common::app(&warden));
    Server {
        base: common::serve(app).await,
        client: reqwest::Client::new(),
        warden,
    }
}

/// The cookie backends only.
async fn spawn_cookies() -> Server {
    spawn(
        Warden::<warden::User>::builder()
            .backend::<CookieBackend>()
            .unwrap()
            .backend::<Session>()
            .unwrap()
            .backend::<Loose>()
            .unwrap()
            .backend::<Cross>()
            .unwrap(),
    )
    .await
}

/// Bearer first, then the default cookie.
async fn spawn_bearer_then_cookie() -> Server {
    spawn(
        Warden::<warden::User>::builder()
            .backend::<common::Jwt>()
            .unwrap()
            .backend::<CookieBackend>()
            .unwrap(),
    )
    .await
}

/// Cookie helpers on the shared [`Reply`].
trait CookieReply {
    fn set_cookies(&self) -> Vec<&str>;
    fn set_cookie(&self) -> SetCookie;
}

impl CookieReply for Reply {
    /// Every `Set-Cookie` value but the device cookie a password login adds on
    /// every backend (issue 18 item 5: a stated addition to FastAPI Users'
    /// responses; `tests/throttle.rs` covers it).
    fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .filter(|v| !v.starts_with("__Host-warden_device=") && !v.starts_with("warden_device="))
            .collect()
    }

    /// The one `Set-Cookie`, parsed.
    #[track_caller]
    fn set_cookie(&self) -> SetCookie {
        let all = self.set_cookies();
        assert_eq!(all.len(), 1, "expected one Set-Cookie: {all:?}");
        SetCookie::parse(all[0])
    }
}

/// A `Set-Cookie` value: `name=value` and its attributes.
#[derive(Debug)]
struct SetCookie {
    raw: String,
    name: String,
    value: String,
    /// Attributes as written, e.g. `HttpOnly`, `Path=/`.
    attributes: Vec<String>,
}

impl SetCookie {
    fn parse(raw: &str) -> Self {
        let mut parts = raw.split(';').map(str::trim);
        let (name, value) = parts.next().unwrap().split_once('=').unwrap();
        Self {
            raw: raw.to_owned(),
            name: name.to_owned(),
            value: value.to_owned(),
            attributes: parts.map(str::to_owned).collect(),
        }
    }

    /// Asserts exactly these attributes, in any order; attribute names and values
    /// compare case-insensitively (`SameSite=Lax` and Starlette's `SameSite=lax`
    /// mean the same to a browser).
    #[track_caller]
    fn assert_attributes(&self, expected: &[&str]) {
        let normal = |list: Vec<String>| {
            let mut list: Vec<String> = list.into_iter().map(|a| a.to_ascii_lowercase()).collect();
            list.sort();
            list
        };
        assert_eq!(
            normal(self.attributes.clone()),
            normal(expected.iter().map(|s| (*s).to_owned()).collect()),
            "{}",
            self.raw
        );
    }

    /// `name=value`, for a `Cookie` header.
    fn pair(&self) -> String {
        format!("{}={}", self.name, self.value)
    }
}

/// `method path` with `Cookie` header lines, an optional bearer token, and an
/// optional form body.
async fn send(
    server: &Server,
    method: Method,
    path: &str,
    cookies: &[&str],
    bearer: Option<&str>,
    form: Option<&str>,
) -> Reply {
    let mut request = server.client.request(method, server.url(path));
    for cookie in cookies {
        request = request.header(COOKIE, *cookie);
    }
    if let Some(token) = bearer {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(form) = form {
        request = request
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.to_owned());
    }
    Reply::read(request.send().await.unwrap()).await
}

async fn get_with(server: &Server, path: &str, cookies: &[&str], bearer: Option<&str>) -> Reply {
    send(server, Method::GET, path, cookies, bearer, None).await
}

async fn post_with(server: &Server, path: &str, cookies: &[&str], bearer: Option<&str>) -> Reply {
    send(server, Method::POST, path, cookies, bearer, None).await
}

async fn login(server: &Server, backend: &str, email: &str, password: &str) -> Reply {
    let form = format!(
        "username={}&password={}",
        common::urlencode(email),
        common::urlencode(password)
    );
    send(
        server,
        Method::POST,
        &format!("/auth/{backend}/login"),
        &[],
        None,
        Some(&form),
    )
    .await
}

/// Logs in on a cookie backend; asserts the 204 and returns the cookie.
async fn cookie_login(server: &Server, backend: &str, email: &str) -> SetCookie {
    let reply = login(server, backend, email, PASSWORD).await;
    assert_login_cookie(&reply)
}

/// A cookie login response: 204, no body, `Cache-Control: no-store`, one cookie.
#[track_caller]
fn assert_login_cookie(reply: &Reply) -> SetCookie {
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(reply.text, "");
    assert_eq!(reply.header("content-type"), None);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let cookie = reply.set_cookie();
    assert_eq!(
        cookie.value.split('.').count(),
        3,
        "not a JWS: {}",
        cookie.raw
    );
    cookie
}

/// Registers `email` with [`PASSWORD`]; returns the id.
async fn register(server: &Server, email: &str) -> Uuid {
    let (status, body) = server.register(email, PASSWORD).await;
    assert_eq!(status, 201, "{body}");
    Uuid::parse_str(body["id"].as_str().unwrap()).unwrap()
}

/// A bearer token from `/auth/jwt/login`.
async fn bearer_login(server: &Server, email: &str) -> String {
    let reply = login(server, "jwt", email, PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // No session cookie; the device cookie only (Secure by default: `__Host-`).
    assert!(reply.set_cookies().is_empty());
    assert!(
        reply
            .headers
            .get_all(SET_COOKIE)
            .iter()
            .all(|v| v.to_str().unwrap().starts_with("__Host-warden_device="))
    );
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn user_read(id: Uuid, email: &str) -> Value {
    json!({
        "id": id.to_string(),
        "email": email,
        "is_active": true,
        "is_superuser": false,
        "is_verified": false,
    })
}

#[track_caller]
fn assert_unauthorized(reply: &Reply) {
    assert_eq!(reply.status, 401, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "Unauthorized"}));
    assert!(reply.set_cookies().is_empty(), "{:?}", reply.set_cookies());
}

#[track_caller]
fn assert_me(reply: &Reply, id: Uuid, email: &str) {
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json(), user_read(id, email));
}

const DEFAULT_ATTRIBUTES: [&str; 4] = ["HttpOnly", "Path=/", "SameSite=Lax", "Secure"];
const SESSION_ATTRIBUTES: [&str; 6] = [
    "Domain=example.com",
    "HttpOnly",
    "Max-Age=600",
    "Path=/",
    "SameSite=Strict",
    "Secure",
];

// ---------------------------------------------------------------------------------
// Login: the cookie as configured
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn login_sets_fastapi_users_default_cookie() {
    let server = spawn_cookies().await;
    let id = register(&server, "ann@example.com").await;
    let cookie = cookie_login(&server, "cookie", "ann@example.com").await;
    assert_eq!(cookie.name, "fastapiusersauth");
    // No Max-Age: a session cookie, as FastAPI Users' default `cookie_max_age=None`.
    cookie.assert_attributes(&DEFAULT_ATTRIBUTES);
    let claims = claims(&cookie.value);
    assert_eq!(claims["sub"], id.to_string());
    assert_eq!(claims["aud"], json!(["fastapi-users:auth"]));

    // A JSON login body works as well.
    let reply = send(&server, Method::POST, "/auth/cookie/login", &[], None, None).await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    let response = server
        .client
        .post(server.url("/auth/cookie/login"))
        .json(&json!({"username": "ann@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let reply = Reply {
        status,
        headers,
        text: response.text().await.unwrap(),
    };
    assert_login_cookie(&reply).assert_attributes(&DEFAULT_ATTRIBUTES);
}

#[tokio::test]
async fn login_sets_every_configured_option() {
    let server = spawn_cookies().await;
    register(&server, "bob@example.com").await;

    let cookie = cookie_login(&server, "session", "bob@example.com").await;
    assert_eq!(cookie.name, "session");
    cookie.assert_attributes(&SESSION_ATTRIBUTES);

    let cookie = cookie_login(&server, "loose", "bob@example.com").await;
    assert_eq!(cookie.name, "loose");
    cookie.assert_attributes(&["Path=/api", "SameSite=Lax"]);

    let cookie = cookie_login(&server, "cross", "bob@example.com").await;
    assert_eq!(cookie.name, "cross");
    cookie.assert_attributes(&[
        "HttpOnly",
        "Max-Age=86400",
        "Path=/",
        "SameSite=None",
        "Secure",
    ]);
}

#[tokio::test]
async fn failed_cookie_login_sets_no_cookie() {
    let server = spawn_cookies().await;
    register(&server, "cy@example.com").await;
    for (email, password) in [
        ("cy@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
    ] {
        let reply = login(&server, "cookie", email, password).await;
        assert_eq!(reply.status, 400, "{}", reply.text);
        assert_eq!(reply.json(), json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
        assert!(reply.set_cookies().is_empty());
    }
    server
        .set_flags("cy@example.com", false, false, false)
        .await;
    let reply = login(&server, "session", "cy@example.com", PASSWORD).await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
    assert!(reply.set_cookies().is_empty());
}

// ---------------------------------------------------------------------------------
// The cookie authenticates
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn the_cookie_authenticates_users_me_and_the_demo_routes() {
    let server = spawn_cookies().await;
    let id = register(&server, "dee@example.com").await;
    let cookie = cookie_login(&server, "cookie", "dee@example.com").await;
    let pair = cookie.pair();

    assert_me(
        &get_with(&server, "/users/me", &[&pair], None).await,
        id,
        "dee@example.com",
    );
    // Among other cookies.
    let among = format!("theme=dark; {pair}; lang=en");
    assert_me(
        &get_with(&server, "/users/me", &[&among], None).await,
        id,
        "dee@example.com",
    );
    let reply = get_with(&server, "/authenticated-route", &[&pair], None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json(), json!({"message": "Hello dee@example.com!"}));
    let reply = get_with(&server, "/optional-route", &[&pair], None).await;
    assert_eq!(reply.json(), json!({"message": "Hello dee@example.com!"}));
    for path in ["/verified-route", "/superuser-route"] {
        let reply = get_with(&server, path, &[&pair], None).await;
        assert_eq!(reply.status, 403, "{path}: {}", reply.text);
        assert_eq!(reply.json(), json!({"detail": "Forbidden"}));
    }
    server.set_flags("dee@example.com", true, true, true).await;
    let reply = get_with(&server, "/superuser-route", &[&pair], None).await;
    assert_eq!(
        reply.json(),
        json!({"message": "Hello dee@example.com, you are a superuser!"})
    );

    // The other cookie backends' cookies work too (every backend is tried).
    for backend in ["session", "loose", "cross"] {
        let cookie = cookie_login(&server, backend, "dee@example.com").await;
        let reply = get_with(&server, "/users/me", &[&cookie.pair()], None).await;
        assert_eq!(reply.status, 200, "{backend}: {}", reply.text);
        assert_eq!(reply.json()["id"], id.to_string());
    }

    // PATCH /users/me with the cookie.
    let response = server
        .client
        .patch(server.url("/users/me"))
        .header(COOKIE, &pair)
        .json(&json!({"email": "dee2@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({
            "id": id.to_string(),
            "email": "dee2@example.com",
            "is_active": true,
            "is_superuser": true,
            "is_verified": false,
        })
    );
}

#[tokio::test]
async fn missing_bad_or_duplicate_cookies_are_401() {
    let server = spawn_cookies().await;
    register(&server, "eve@example.com").await;
    let cookie = cookie_login(&server, "cookie", "eve@example.com").await;
    let pair = cookie.pair();
    let doubled = format!("{pair}; {pair}");
    let with_garbage = format!("{pair}; fastapiusersauth=garbage");
    let garbage_first = format!("fastapiusersauth=garbage; {pair}");
    let renamed = format!("other={}", cookie.value);
    // The session backend's cookie under the default name: wrong secret.
    let session = cookie_login(&server, "session", "eve@example.com").await;
    let foreign = format!("fastapiusersauth={}", session.value);

    let cases: [(&str, Vec<&str>); 10] = [
        ("no cookie", vec![]),
        ("garbage", vec!["fastapiusersauth=garbage"]),
        ("empty", vec!["fastapiusersauth="]),
        ("another name", vec![&renamed]),
        ("another backend's token", vec![&foreign]),
        ("twice in one header", vec![&doubled]),
        ("twice with garbage", vec![&with_garbage]),
        ("garbage first", vec![&garbage_first]),
        ("two headers", vec![&pair, &pair]),
        (
            "two headers, one garbage",
            vec![&pair, "fastapiusersauth=garbage"],
        ),
    ];
    for (what, cookies) in &cases {
        for path in ["/users/me", "/authenticated-route", "/cookie-only"] {
            let reply = get_with(&server, path, cookies, None).await;
            assert_eq!(reply.status, 401, "{what} {path}: {}", reply.text);
            assert_unauthorized(&reply);
        }
        for path in ["/auth/cookie/logout", "/auth/cookie/refresh"] {
            let reply = post_with(&server, path, cookies, None).await;
            assert_eq!(reply.status, 401, "{what} {path}: {}", reply.text);
            assert_unauthorized(&reply);
        }
        let reply = get_with(&server, "/optional-route", cookies, None).await;
        assert_eq!(
            reply.json(),
            json!({"message": "Hello anonymous!"}),
            "{what}"
        );
    }

    // A valid cookie of an inactive user.
    server
        .set_flags("eve@example.com", false, false, false)
        .await;
    assert_unauthorized(&get_with(&server, "/users/me", &[&pair], None).await);
    assert_unauthorized(&post_with(&server, "/auth/cookie/refresh", &[&pair], None).await);
}

// ---------------------------------------------------------------------------------
// Logout and refresh
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn logout_clears_the_cookie() {
    let server = spawn_cookies().await;
    register(&server, "fay@example.com").await;

    let cookie = cookie_login(&server, "cookie", "fay@example.com").await;
    let reply = post_with(&server, "/auth/cookie/logout", &[&cookie.pair()], None).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(reply.text, "");
    let cleared = reply.set_cookie();
    assert_eq!(cleared.name, "fastapiusersauth");
    assert!(
        cleared.value.is_empty() || cleared.value == "\"\"",
        "{}",
        cleared.raw
    );
    cleared.assert_attributes(&["HttpOnly", "Max-Age=0", "Path=/", "SameSite=Lax", "Secure"]);

    // With every option: cleared with the same Domain and Path, or the browser
    // would keep it.
    let cookie = cookie_login(&server, "session", "fay@example.com").await;
    let reply = post_with(&server, "/auth/session/logout", &[&cookie.pair()], None).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(reply.text, "");
    let cleared = reply.set_cookie();
    assert_eq!(cleared.name, "session");
    assert!(
        cleared.value.is_empty() || cleared.value == "\"\"",
        "{}",
        cleared.raw
    );
    cleared.assert_attributes(&[
        "Domain=example.com",
        "HttpOnly",
        "Max-Age=0",
        "Path=/",
        "SameSite=Strict",
        "Secure",
    ]);

    let cookie = cookie_login(&server, "loose", "fay@example.com").await;
    let reply = post_with(&server, "/auth/loose/logout", &[&cookie.pair()], None).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    reply
        .set_cookie()
        .assert_attributes(&["Max-Age=0", "Path=/api", "SameSite=Lax"]);
}

#[tokio::test]
async fn refresh_sets_a_new_cookie() {
    let server = spawn_cookies().await;
    let id = register(&server, "gus@example.com").await;
    for (backend, attributes) in [
        ("cookie", &DEFAULT_ATTRIBUTES[..]),
        ("session", &SESSION_ATTRIBUTES[..]),
    ] {
        let cookie = cookie_login(&server, backend, "gus@example.com").await;
        let reply = post_with(
            &server,
            &format!("/auth/{backend}/refresh"),
            &[&cookie.pair()],
            None,
        )
        .await;
        let fresh = assert_login_cookie(&reply);
        assert_eq!(fresh.name, cookie.name);
        fresh.assert_attributes(attributes);
        assert_ne!(fresh.value, cookie.value);
        assert_ne!(claims(&fresh.value)["jti"], claims(&cookie.value)["jti"]);
        assert_me(
            &get_with(&server, "/users/me", &[&fresh.pair()], None).await,
            id,
            "gus@example.com",
        );
    }
}

// ---------------------------------------------------------------------------------
// Several backends
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn bearer_and_cookie_backends_both_work_tried_in_order() {
    let server = spawn_bearer_then_cookie().await;
    let ann = register(&server, "ann@example.com").await;
    let bob = register(&server, "bob@example.com").await;
    let bearer = bearer_login(&server, "ann@example.com").await;
    let cookie = cookie_login(&server, "cookie", "bob@example.com").await;
    let pair = cookie.pair();
    cookie.assert_attributes(&DEFAULT_ATTRIBUTES);

    assert_me(
        &get_with(&server, "/users/me", &[], Some(&bearer)).await,
        ann,
        "ann@example.com",
    );
    assert_me(
        &get_with(&server, "/users/me", &[&pair], None).await,
        bob,
        "bob@example.com",
    );
    // Both present: the first backend (bearer) wins.
    assert_me(
        &get_with(&server, "/users/me", &[&pair], Some(&bearer)).await,
        ann,
        "ann@example.com",
    );
    // A bad bearer token does not stop the search: the cookie is tried next.
    assert_me(
        &get_with(&server, "/users/me", &[&pair], Some("garbage")).await,
        bob,
        "bob@example.com",
    );
    // A cookie token in the Authorization header: another secret, refused.
    assert_unauthorized(&get_with(&server, "/users/me", &[], Some(&cookie.value)).await);

    // The other order: the cookie wins.
    let reversed = spawn(
        Warden::<warden::User>::builder()
            .backend::<CookieBackend>()
            .unwrap()
            .backend::<common::Jwt>()
            .unwrap(),
    )
    .await;
    assert_eq!(
        reversed.warden.backend_names().collect::<Vec<_>>(),
        ["cookie", "jwt"]
    );
    let ann = register(&reversed, "ann@example.com").await;
    let bob = register(&reversed, "bob@example.com").await;
    let bearer = bearer_login(&reversed, "ann@example.com").await;
    let pair = cookie_login(&reversed, "cookie", "bob@example.com")
        .await
        .pair();
    assert_me(
        &get_with(&reversed, "/users/me", &[&pair], Some(&bearer)).await,
        bob,
        "bob@example.com",
    );
    assert_me(
        &get_with(
            &reversed,
            "/users/me",
            &["fastapiusersauth=garbage"],
            Some(&bearer),
        )
        .await,
        ann,
        "ann@example.com",
    );
}

#[tokio::test]
async fn logout_and_refresh_take_only_their_own_backends_token() {
    let server = spawn_bearer_then_cookie().await;
    register(&server, "cal@example.com").await;
    let bearer = bearer_login(&server, "cal@example.com").await;
    let pair = cookie_login(&server, "cookie", "cal@example.com")
        .await
        .pair();

    for action in ["logout", "refresh"] {
        // A bearer token on the cookie backend's routes.
        let reply = post_with(
            &server,
            &format!("/auth/cookie/{action}"),
            &[],
            Some(&bearer),
        )
        .await;
        assert_unauthorized(&reply);
        // The cookie on the bearer backend's routes.
        let reply = post_with(&server, &format!("/auth/jwt/{action}"), &[&pair], None).await;
        assert_unauthorized(&reply);
    }

    // Each on its own backend.
    let reply = post_with(&server, "/auth/jwt/logout", &[], Some(&bearer)).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert!(reply.set_cookies().is_empty());
    let reply = post_with(&server, "/auth/cookie/logout", &[&pair], Some(&bearer)).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(reply.set_cookie().name, "fastapiusersauth");
    // Logged out: that token is over, on every route.
    let reply = post_with(&server, "/auth/jwt/refresh", &[], Some(&bearer)).await;
    assert_unauthorized(&reply);
    let bearer = bearer_login(&server, "cal@example.com").await;
    let reply = post_with(&server, "/auth/jwt/refresh", &[&pair], Some(&bearer)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.set_cookies().is_empty());
    assert_eq!(reply.json()["token_type"], "bearer");
}

#[tokio::test]
async fn protected_backend_narrows_a_handler_to_the_cookie_backend() {
    let server = spawn(
        Warden::<warden::User>::builder()
            .backend::<common::Jwt>()
            .unwrap()
            .backend::<CookieBackend>()
            .unwrap()
            .backend::<Session>()
            .unwrap(),
    )
    .await;
    register(&server, "dan@example.com").await;
    let bearer = bearer_login(&server, "dan@example.com").await;
    let pair = cookie_login(&server, "cookie", "dan@example.com")
        .await
        .pair();
    let session = cookie_login(&server, "session", "dan@example.com")
        .await
        .pair();
    let hello = json!({"message": "Hello dan@example.com (cookie)!"});

    let reply = get_with(&server, "/cookie-only", &[&pair], None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json(), hello);
    // With a bearer token beside it, still the cookie's user.
    let reply = get_with(&server, "/cookie-only", &[&pair], Some(&bearer)).await;
    assert_eq!(reply.json(), hello);

    // A bearer token, or another cookie backend's cookie: 401.
    assert_unauthorized(&get_with(&server, "/cookie-only", &[], Some(&bearer)).await);
    assert_unauthorized(&get_with(&server, "/cookie-only", &[&session], None).await);
    // Both work on a route open to every backend.
    for (cookies, token) in [
        (vec![], Some(bearer.as_str())),
        (vec![session.as_str()], None),
    ] {
        let reply = get_with(&server, "/authenticated-route", &cookies, token).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    // The guard's `active` still applies.
    server
        .set_flags("dan@example.com", false, false, false)
        .await;
    assert_unauthorized(&get_with(&server, "/cookie-only", &[&pair], None).await);
}
