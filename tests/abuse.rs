//! Abuse resistance over real HTTP: a login flood meets a bounded hash queue.

mod common;

use common::{Http, Jwt, serve};
use futures::future::join_all;
use reqwest::Method;
use serde_json::json;
use warden::{MemoryStore, PasswordHasher, PasswordHasherConfig, User, Warden};

/// A registration flood fills the hash queue (its hashes held, so nothing depends
/// on how fast a hash is): the next registration is refused 503, but a real
/// user's login is still admitted to a slot reserved for verifications and
/// answered 200 (before this, it met the same full queue: 503).
#[tokio::test]
async fn a_registration_flood_leaves_logins_admitted() {
    let hasher = PasswordHasher::with_config(PasswordHasherConfig {
        max_concurrent: 1,
        max_waiting: 3,
        reserved_for_logins: 2,
        ..Default::default()
    })
    .unwrap();
    let warden = Warden::<User>::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .password_hasher(hasher.clone())
        .build()
        .unwrap();
    let http = Http::new(serve(warden.routes().with_state(warden)).await);
    http.register("gawain@camelot.org", "green-knight").await;

    hasher.hold_hashes(true);
    let register = |email: String| {
        let http = Http::new(http.base.clone());
        tokio::spawn(async move {
            http.send(
                Method::POST,
                "/auth/register",
                None,
                Some(&json!({"email": email, "password": "flooding-pass"})),
            )
            .await
            .status
        })
    };
    // Registrations until one is refused: the queue is full for them.
    let mut flood = Vec::new();
    loop {
        let registration = register(format!("flood{}@camelot.org", flood.len()));
        let before = flood.len();
        common::until_seen("the registration admitted or refused", async || {
            hasher.in_flight() > before || registration.is_finished()
        })
        .await;
        if registration.is_finished() {
            assert_eq!(registration.await.unwrap(), 503);
            break;
        }
        flood.push(registration);
    }
    assert_eq!(
        flood.len(),
        2,
        "new hashes take only their share of the slots"
    );

    let login = {
        let http = Http::new(http.base.clone());
        tokio::spawn(async move {
            http.client
                .post(format!("{}/auth/jwt/login", http.base))
                .form(&[
                    ("username", "gawain@camelot.org"),
                    ("password", "green-knight"),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    common::until_seen("the login admitted or answered", async || {
        hasher.in_flight() == 3 || login.is_finished()
    })
    .await;
    hasher.hold_hashes(false);
    assert_eq!(login.await.unwrap(), 200, "the login was admitted");
    for registration in flood {
        assert_eq!(registration.await.unwrap(), 201);
    }
}

/// Beyond the hasher's slots and queue, logins are refused at once with 503 and
/// `Retry-After` instead of waiting behind the flood; the queue drains and logins
/// work again; guarded routes never wait for the hasher.
#[tokio::test]
async fn a_full_hash_queue_answers_503_with_retry_after() {
    let hasher = PasswordHasher::with_config(PasswordHasherConfig {
        max_concurrent: 1,
        max_waiting: 2,
        ..Default::default()
    })
    .unwrap();
    let warden = Warden::<User>::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .password_hasher(hasher)
        .build()
        .unwrap();
    let http = Http::new(serve(warden.routes().with_state(warden)).await);
    let reply = http
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&json!({"email": "lot@camelot.org", "password": "orkney-king"})),
        )
        .await;
    assert_eq!(reply.status, 201);
    let token = http.login("jwt", "lot@camelot.org", "orkney-king").await;

    let flood = join_all((0..24).map(|_| {
        http.client
            .post(format!("{}/auth/jwt/login", http.base))
            .form(&[
                ("username", "lot@camelot.org"),
                ("password", "wrong-password"),
            ])
            .send()
    }));
    let me = http.send(Method::GET, "/users/me", Some(&token), None);
    let (replies, me) = tokio::join!(flood, me);
    assert_eq!(me.status, 200, "guarded routes do not wait for the hasher");
    let mut refused = 0;
    let mut busy = 0;
    for reply in replies {
        let reply = common::Reply::read(reply.unwrap()).await;
        match reply.status {
            400 => refused += 1,
            503 => {
                busy += 1;
                assert_eq!(reply.header("retry-after"), Some("1"));
                assert_eq!(reply.json(), json!({"detail": "Service Unavailable"}));
            }
            other => panic!("unexpected {other}: {}", reply.text),
        }
    }
    assert!(
        refused >= 3,
        "one running and two waiting are served: {refused}"
    );
    assert!(busy >= 1, "the rest are refused: {busy}");
    assert_eq!(refused + busy, 24);
    // Drained: a login works again.
    http.login("jwt", "lot@camelot.org", "orkney-king").await;
}

/// A cookie backend as a browser application uses it.
#[warden::auth_backend(
    name = "cookie",
    lifetime = 3600,
    secret = "cookie-secret-that-is-at-least-32-bytes-long",
    transport = cookie(secure = false)
)]
struct Cookie;

/// A request with the headers a browser would add.
fn browser(
    http: &Http,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    site: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    let mut request = http.client.request(method, format!("{}{path}", http.base));
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("fastapiusersauth={cookie}"));
    }
    for (name, value) in site {
        request = request.header(*name, *value);
    }
    request
}

/// Cookie-authenticated state changes, and the cookie login itself, come from the
/// application's origin or an allowed one; safe methods, bearer tokens and clients
/// that are not browsers are unaffected.
async fn csrf_flow<S: warden::UserStore<User>>(store: S) {
    let warden = Warden::<User>::builder()
        .store(store)
        .backend::<Jwt>()
        .unwrap()
        .backend::<Cookie>()
        .unwrap()
        .allowed_origins(["https://admin.camelot.org/"])
        .build()
        .unwrap();
    let http = Http::new(serve(warden.routes().with_state(warden)).await);
    let own = http.base.clone();
    let evil = [("origin", "https://evil.example")];
    let cross = [("sec-fetch-site", "cross-site")];
    let reply = http
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&json!({"email": "gareth@camelot.org", "password": "beaumains!"})),
        )
        .await;
    assert_eq!(reply.status, 201);
    let form = [
        ("username", "gareth@camelot.org"),
        ("password", "beaumains!"),
    ];

    // Login CSRF: a cross-site form cannot log the browser in.
    for site in [&evil[..], &cross[..]] {
        let login = browser(&http, Method::POST, "/auth/cookie/login", None, site)
            .form(&form)
            .send()
            .await
            .unwrap();
        let login = common::Reply::read(login).await;
        assert_eq!(login.status, 403, "{site:?}");
        assert_eq!(
            login.json(),
            json!({"detail": "Cross-origin request refused"})
        );
    }
    let login = browser(
        &http,
        Method::POST,
        "/auth/cookie/login",
        None,
        &[("origin", &own)],
    )
    .form(&form)
    .send()
    .await
    .unwrap();
    assert_eq!(login.status(), 204);
    let set_cookie = login.headers()["set-cookie"].to_str().unwrap();
    let cookie = set_cookie
        .strip_prefix("fastapiusersauth=")
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_owned();

    // Reading is safe from anywhere; changing is not.
    let me = browser(&http, Method::GET, "/users/me", Some(&cookie), &evil)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let patch = |site: &[(&str, &str)]| {
        browser(&http, Method::PATCH, "/users/me", Some(&cookie), site)
            .json(&json!({"is_superuser": true}))
            .send()
    };
    assert_eq!(patch(&evil).await.unwrap().status(), 403);
    assert_eq!(patch(&cross).await.unwrap().status(), 403);
    assert_eq!(patch(&[("origin", "null")]).await.unwrap().status(), 403);
    assert_eq!(patch(&[("origin", &own)]).await.unwrap().status(), 200);
    assert_eq!(
        patch(&[("origin", "https://admin.camelot.org")])
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        patch(&[("sec-fetch-site", "same-origin")])
            .await
            .unwrap()
            .status(),
        200
    );
    // A client that is not a browser sends neither header.
    assert_eq!(patch(&[]).await.unwrap().status(), 200);
    let logout = |site: &[(&str, &str)]| {
        browser(
            &http,
            Method::POST,
            "/auth/cookie/logout",
            Some(&cookie),
            site,
        )
        .send()
    };
    assert_eq!(logout(&evil).await.unwrap().status(), 403);

    // A bearer token is never sent by a browser on its own: no origin check.
    let token = http.login("jwt", "gareth@camelot.org", "beaumains!").await;
    let bearer = http
        .client
        .post(format!("{}/auth/jwt/logout", http.base))
        .bearer_auth(&token)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 204);
    assert_eq!(logout(&[("origin", &own)]).await.unwrap().status(), 204);
}

#[tokio::test]
async fn cookie_requests_from_other_origins_are_refused_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("csrf.db").display());
    csrf_flow(warden::SqliteStore::open(&url).await.unwrap()).await;
}

#[tokio::test]
async fn cookie_requests_from_other_origins_are_refused_on_postgres() {
    let Some((url, options)) =
        common::postgres("cookie_requests_from_other_origins_are_refused_on_postgres").await
    else {
        return;
    };
    csrf_flow(
        warden::PostgresStore::<User>::connect_with(options, &url)
            .await
            .unwrap(),
    )
    .await;
}

/// ASVS 6.2.3: with `require_current_password`, a new password or e-mail on
/// `PATCH /users/me` needs the current password; other fields do not.
#[tokio::test]
async fn credential_changes_can_require_the_current_password() {
    let warden = Warden::<User>::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .require_current_password(true)
        .build()
        .unwrap();
    let http = Http::new(serve(warden.routes().with_state(warden)).await);
    http.send(
        Method::POST,
        "/auth/register",
        None,
        Some(&json!({"email": "tristan@camelot.org", "password": "isolde-forever"})),
    )
    .await;
    let token = http
        .login("jwt", "tristan@camelot.org", "isolde-forever")
        .await;
    let patch = |body: serde_json::Value| {
        let (http, token) = (&http, token.clone());
        async move {
            http.send(Method::PATCH, "/users/me", Some(&token), Some(&body))
                .await
        }
    };
    let missing = patch(json!({"password": "mark-of-cornwall"})).await;
    assert_eq!(missing.status, 422);
    assert_eq!(
        missing.json()["detail"][0]["loc"],
        json!(["body", "current_password"])
    );
    for body in [
        json!({"password": "mark-of-cornwall", "current_password": "wrong-password"}),
        json!({"email": "t@camelot.org", "current_password": "wrong-password"}),
    ] {
        let wrong = patch(body).await;
        assert_eq!(wrong.status, 400);
        assert_eq!(
            wrong.json(),
            json!({"detail": "UPDATE_USER_BAD_CURRENT_PASSWORD"})
        );
    }
    // Nothing sensitive: no password needed (the flags are ignored here anyway).
    assert_eq!(patch(json!({"is_superuser": true})).await.status, 200);
    let changed =
        patch(json!({"password": "mark-of-cornwall", "current_password": "isolde-forever"})).await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    http.login("jwt", "tristan@camelot.org", "mark-of-cornwall")
        .await;
    let doc = http
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .json();
    assert!(
        doc["components"]["schemas"]["UserUpdate"]["properties"]["current_password"].is_object()
    );
}

/// E-mail look-alikes are one address (email-validator's NFC and IDNA): the twin of
/// an account is refused as a duplicate, and logs in as the account.
#[tokio::test]
async fn look_alike_addresses_are_the_same_account() {
    let warden = Warden::<User>::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(serve(warden.routes().with_state(warden)).await);
    let register = |email: &str| {
        let body = json!({"email": email, "password": "round-table"});
        let http = &http;
        async move {
            http.send(Method::POST, "/auth/register", None, Some(&body))
                .await
        }
    };
    let kay = register("kay@münchen.de").await;
    assert_eq!(kay.status, 201);
    assert_eq!(kay.json()["email"], "kay@münchen.de");
    for twin in [
        "\u{212A}ay@münchen.de", // Kelvin sign
        "kay@xn--mnchen-3ya.de", // the punycode of the domain
        "kay@\u{FF2D}ünchen.de", // a fullwidth M
        "KAY@MÜNCHEN.DE",        // capitals
    ] {
        let reply = register(twin).await;
        assert_eq!(reply.status, 400, "{twin}: {}", reply.text);
        assert_eq!(
            reply.json(),
            json!({"detail": "REGISTER_USER_ALREADY_EXISTS"})
        );
    }
    for bad in ["kay@exa_mple.com", "kay@exa$mple.com", "kay@-camelot.org"] {
        let reply = register(bad).await;
        assert_eq!(reply.status, 422, "{bad}");
        assert_eq!(reply.json()["detail"][0]["loc"], json!(["body", "email"]));
    }
    http.login("jwt", "kay@xn--mnchen-3ya.de", "round-table")
        .await;
}
