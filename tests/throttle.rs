//! Login throttling over real HTTP: failures counted per account in the store, so
//! the limit holds across two instances on SQLite and PostgreSQL; unknown accounts
//! throttled like real ones; a password reset lifting an account's limit; failures
//! and e-mail requests counted per client address, behind trusted proxies by the
//! forwarded address.

mod common;

use std::sync::{Arc, Mutex};

use common::{Http, Jwt};
use reqwest::Method;
use serde_json::json;
use tokio::net::TcpListener;
use warden::{
    MemoryStore, ServeConfig, ThrottleSettings, TokenSettings, TrustedProxies, User, UserEvents,
    UserStore, Warden, async_trait,
};

const RESET_SECRET: &str = "a-reset-secret-of-at-least-thirty-two-bytes";

/// Keeps the reset tokens the app would e-mail.
#[derive(Default, Clone)]
struct Outbox(Arc<Mutex<Vec<String>>>);

#[async_trait]
impl UserEvents<User> for Outbox {
    async fn on_after_forgot_password(&self, _user: &User, token: &str) {
        self.0.lock().unwrap().push(token.to_owned());
    }
}

fn limits(per_account: u64, per_address: u64, requests: u64) -> ThrottleSettings {
    ThrottleSettings {
        per_account,
        per_address,
        requests_per_address: requests,
        register_per_address: 2,
        ..ThrottleSettings::default()
    }
}

/// A warden over `store` served by `warden::serve` (which gives handlers the client
/// address).
async fn instance(
    store: Arc<dyn UserStore<User>>,
    settings: ThrottleSettings,
    proxies: TrustedProxies,
    outbox: Outbox,
) -> Http {
    let warden = Warden::<User>::builder()
        .shared_store(store)
        .backend::<Jwt>()
        .unwrap()
        .throttle(settings)
        .trusted_proxies(proxies)
        .reset_password(TokenSettings::new(RESET_SECRET))
        .events(outbox)
        .build()
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = warden.routes().with_state(warden);
    tokio::spawn(warden::serve_on(
        listener,
        app,
        ServeConfig::default(),
        std::future::pending(),
    ));
    Http::new(base)
}

async fn login(
    http: &Http,
    username: &str,
    password: &str,
    forwarded: Option<&str>,
) -> common::Reply {
    let mut request = http
        .client
        .post(format!("{}/auth/jwt/login", http.base))
        .form(&[("username", username), ("password", password)]);
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    common::Reply::read(request.send().await.unwrap()).await
}

fn assert_throttled(reply: &common::Reply) {
    assert_eq!(reply.status, 429, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "Too Many Requests"}));
    let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
}

/// Five failures spread over two instances reach the limit of five: the sixth
/// attempt is refused on both, even with the right password, and an unknown
/// account meets the same limit; a password reset lifts it.
async fn account_limit_across_instances(
    first: Arc<dyn UserStore<User>>,
    second: Arc<dyn UserStore<User>>,
) {
    let outbox = Outbox::default();
    let a = instance(
        first,
        limits(5, 1000, 1000),
        TrustedProxies::default(),
        outbox.clone(),
    )
    .await;
    let b = instance(
        second,
        limits(5, 1000, 1000),
        TrustedProxies::default(),
        outbox.clone(),
    )
    .await;
    let reply = a
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&json!({"email": "percival@camelot.org", "password": "holy-grail!"})),
        )
        .await;
    assert_eq!(reply.status, 201);
    for (i, http) in [&a, &b, &a, &b, &a].into_iter().enumerate() {
        let reply = login(http, "Percival@Camelot.org", "wrong-password", None).await;
        assert_eq!(reply.status, 400, "failure {i}");
    }
    assert_throttled(&login(&b, "percival@camelot.org", "holy-grail!", None).await);
    assert_throttled(&login(&a, "percival@camelot.org", "holy-grail!", None).await);
    // An account that does not exist answers the same way.
    for _ in 0..5 {
        assert_eq!(
            login(&a, "galahad@camelot.org", "x-password", None)
                .await
                .status,
            400
        );
    }
    assert_throttled(&login(&b, "galahad@camelot.org", "x-password", None).await);

    // The owner resets the password: the account is usable again at once.
    let forgot = a
        .send(
            Method::POST,
            "/auth/forgot-password",
            None,
            Some(&json!({"email": "percival@camelot.org"})),
        )
        .await;
    assert_eq!(forgot.status, 202);
    let token = outbox.0.lock().unwrap().last().cloned().unwrap();
    let reset = b
        .send(
            Method::POST,
            "/auth/reset-password",
            None,
            Some(&json!({"token": token, "password": "new-holy-grail"})),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.text);
    assert_eq!(
        login(&a, "percival@camelot.org", "new-holy-grail", None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn the_account_limit_holds_across_instances_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("throttle.db").display());
    let first: Arc<dyn UserStore<User>> = Arc::new(warden::SqliteStore::open(&url).await.unwrap());
    let second: Arc<dyn UserStore<User>> = Arc::new(warden::SqliteStore::open(&url).await.unwrap());
    account_limit_across_instances(first, second).await;
}

#[tokio::test]
async fn the_account_limit_holds_across_instances_on_postgres() {
    let Some((url, options)) =
        common::postgres("the_account_limit_holds_across_instances_on_postgres").await
    else {
        return;
    };
    let first: Arc<dyn UserStore<User>> = Arc::new(
        warden::PostgresStore::connect_with(options.clone(), &url)
            .await
            .unwrap(),
    );
    let second: Arc<dyn UserStore<User>> = Arc::new(
        warden::PostgresStore::connect_with(options, &url)
            .await
            .unwrap(),
    );
    account_limit_across_instances(first, second).await;
}

#[tokio::test]
async fn failures_and_email_requests_are_counted_per_client_address() {
    let store: Arc<dyn UserStore<User>> = Arc::new(MemoryStore::new());
    let direct = instance(
        Arc::clone(&store),
        limits(100, 3, 2),
        TrustedProxies::default(),
        Outbox::default(),
    )
    .await;
    // Three accounts, one address: the address meets its limit.
    for account in ["a@camelot.org", "b@camelot.org", "c@camelot.org"] {
        assert_eq!(
            login(&direct, account, "guess-guess", None).await.status,
            400
        );
    }
    assert_throttled(&login(&direct, "d@camelot.org", "guess-guess", None).await);
    // A client cannot dodge it by claiming to be forwarded.
    assert_throttled(
        &login(
            &direct,
            "d@camelot.org",
            "guess-guess",
            Some("198.51.100.1"),
        )
        .await,
    );

    // Behind a trusted proxy, each forwarded client has its own count.
    let proxied = instance(
        Arc::clone(&store),
        limits(100, 3, 2),
        TrustedProxies::parse(["127.0.0.0/8"]).unwrap(),
        Outbox::default(),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(
            login(
                &proxied,
                "e@camelot.org",
                "guess-guess",
                Some("198.51.100.2")
            )
            .await
            .status,
            400
        );
    }
    assert_throttled(
        &login(
            &proxied,
            "f@camelot.org",
            "guess-guess",
            Some("198.51.100.2"),
        )
        .await,
    );
    assert_eq!(
        login(
            &proxied,
            "f@camelot.org",
            "guess-guess",
            Some("198.51.100.3")
        )
        .await
        .status,
        400
    );

    // Forgot-password may send e-mail: two per address, then 429.
    let forgot = |http: &Http| {
        let url = format!("{}/auth/forgot-password", http.base);
        let client = http.client.clone();
        async move {
            common::Reply::read(
                client
                    .post(url)
                    .json(&json!({"email": "a@camelot.org"}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    assert_eq!(forgot(&direct).await.status, 202);
    assert_eq!(forgot(&direct).await.status, 202);
    assert_throttled(&forgot(&direct).await);
}

/// Concurrent guesses cannot slip under the limit while their hashes run: every
/// attempt is counted before its password is checked.
#[tokio::test]
async fn concurrent_guesses_meet_the_account_limit_exactly() {
    let store: Arc<dyn UserStore<User>> = Arc::new(MemoryStore::new());
    let http = instance(
        store,
        limits(5, 1000, 1000),
        TrustedProxies::default(),
        Outbox::default(),
    )
    .await;
    let replies = futures::future::join_all(
        (0..20).map(|_| login(&http, "tor@camelot.org", "guess-guess", None)),
    )
    .await;
    let mut statuses: Vec<u16> = replies.iter().map(|reply| reply.status).collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        15,
        "{statuses:?}"
    );
}

/// Registrations are counted per client address: past the limit (2 here) the
/// next one is refused 429 with `Retry-After` before any password is hashed;
/// another client (a forwarded address behind a trusted proxy) still registers.
#[tokio::test]
async fn registrations_past_the_limit_per_address_are_refused_429() {
    let store: Arc<dyn UserStore<User>> = Arc::new(MemoryStore::new());
    let proxied = instance(
        store,
        limits(100, 300, 30),
        TrustedProxies::parse(["127.0.0.0/8"]).unwrap(),
        Outbox::default(),
    )
    .await;
    let register = |email: &str, from: &str| {
        proxied
            .client
            .post(format!("{}/auth/register", proxied.base))
            .header("x-forwarded-for", from)
            .json(&json!({"email": email, "password": "round-table"}))
            .send()
    };
    for email in ["bors@camelot.org", "bedivere@camelot.org"] {
        let reply = common::Reply::read(register(email, "198.51.100.4").await.unwrap()).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    let third =
        common::Reply::read(register("kay@camelot.org", "198.51.100.4").await.unwrap()).await;
    assert_throttled(&third);
    let elsewhere =
        common::Reply::read(register("kay@camelot.org", "198.51.100.5").await.unwrap()).await;
    assert_eq!(elsewhere.status, 201, "{}", elsewhere.text);
}

/// Guesses of the current password on `PATCH /users/me` count like failed logins:
/// a stolen session is no unthrottled password oracle. Past the account limit
/// (3 here) even the right password is refused 429.
#[tokio::test]
async fn current_password_guesses_meet_the_account_limit() {
    let warden = Warden::<User>::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .throttle(limits(3, 1000, 1000))
        .require_current_password(true)
        .build()
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = Http::new(format!("http://{}", listener.local_addr().unwrap()));
    let app = warden.routes().with_state(warden);
    tokio::spawn(warden::serve_on(
        listener,
        app,
        ServeConfig::default(),
        std::future::pending(),
    ));
    http.register("lamorak@camelot.org", "gales-knight").await;
    let token = http
        .login("jwt", "lamorak@camelot.org", "gales-knight")
        .await;
    let change = async |current: &str| {
        let body = json!({"password": "new-password!", "current_password": current});
        http.send(Method::PATCH, "/users/me", Some(&token), Some(&body))
            .await
    };
    for _ in 0..3 {
        let reply = change("a-guess-guess").await;
        assert_eq!(reply.status, 400, "{}", reply.text);
        assert_eq!(
            reply.json(),
            json!({"detail": "UPDATE_USER_BAD_CURRENT_PASSWORD"})
        );
    }
    assert_throttled(&change("gales-knight").await);
}
