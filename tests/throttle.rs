//! Login throttling over real HTTP: failures counted per account in the store, so
//! the limit holds across two instances on SQLite and PostgreSQL; unknown accounts
//! throttled like real ones; a password reset lifting an account's limit; failures
//! and e-mail requests counted per client address, behind trusted proxies by the
//! forwarded address; the counters bounded under a flood of invented logins; one
//! account counted as one whatever its spelling; the owner's browser, holding a
//! device cookie, signing in past others' failures (OWASP's device cookies).

mod common;

use std::sync::{Arc, Mutex};

use common::{Http, Jwt};
use reqwest::Method;
use serde_json::json;
use tokio::net::TcpListener;
use warden::{
    Clock, MemoryStore, ServeConfig, ThrottleSettings, TokenSettings, TrustedProxies, User,
    UserEvents, UserStore, Warden, async_trait,
};

const RESET_SECRET: &str = "a-reset-secret-of-at-least-thirty-two-bytes";
const DEVICE_SECRET: &str = "a-device-cookie-secret-of-thirty-two-bytes";

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
        per_device: 2,
        // Plain http://127.0.0.1: a Secure cookie would not come back.
        device_cookie_secure: false,
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
    instance_on(store, settings, proxies, outbox, Clock::system()).await
}

/// [`instance`] on `clock`.
async fn instance_on(
    store: Arc<dyn UserStore<User>>,
    settings: ThrottleSettings,
    proxies: TrustedProxies,
    outbox: Outbox,
    clock: Clock,
) -> Http {
    let warden = Warden::<User>::builder()
        .clock(clock)
        .shared_store(store)
        .backend::<Jwt>()
        .unwrap()
        .throttle(settings)
        .device_cookie_secret(DEVICE_SECRET)
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
    login_with(http, username, password, forwarded, None).await
}

/// A login sending `cookie` as its `Cookie` header (beside the client's own jar).
async fn login_with(
    http: &Http,
    username: &str,
    password: &str,
    forwarded: Option<&str>,
    cookie: Option<&str>,
) -> common::Reply {
    let mut request = http
        .client
        .post(format!("{}/auth/jwt/login", http.base))
        .form(&[("username", username), ("password", password)]);
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
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
    // The mail hook runs off the request.
    common::until_seen("the reset mail", async || {
        !outbox.0.lock().unwrap().is_empty()
    })
    .await;
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

/// 2,000 logins with invented 300-character usernames from one address, past an
/// address limit of 5: only the five failures under the limit leave a count (and
/// the address its one), however long the names; nothing grows with the flood.
async fn flood_leaves_a_bounded_table(store: Arc<dyn UserStore<User>>) {
    let counters = store.counters().unwrap();
    let http = instance(
        Arc::clone(&store),
        limits(100, 5, 1000),
        TrustedProxies::default(),
        Outbox::default(),
    )
    .await;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for _ in 0..2000 {
        let name: String = (0..10)
            .map(|_| uuid::Uuid::new_v4().simple().to_string())
            .collect::<String>()[..300]
            .to_owned();
        *statuses
            .entry(login(&http, &name, "guess-guess", None).await.status)
            .or_default() += 1;
    }
    assert_eq!(statuses, [(400, 5), (429, 1995)].into_iter().collect());
    assert_eq!(counters.key_count().await.unwrap(), 6);
}

#[tokio::test]
async fn a_login_flood_past_the_address_limit_leaves_a_bounded_table_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("flood.db").display());
    flood_leaves_a_bounded_table(Arc::new(warden::SqliteStore::open(&url).await.unwrap())).await;
}

#[tokio::test]
async fn a_login_flood_past_the_address_limit_leaves_a_bounded_table_on_postgres() {
    let Some((url, options)) =
        common::postgres("a_login_flood_past_the_address_limit_leaves_a_bounded_table_on_postgres")
            .await
    else {
        return;
    };
    flood_leaves_a_bounded_table(Arc::new(
        warden::PostgresStore::connect_with(options, &url)
            .await
            .unwrap(),
    ))
    .await;
}

#[tokio::test]
async fn a_login_flood_past_the_address_limit_leaves_bounded_memory_counters() {
    flood_leaves_a_bounded_table(Arc::new(MemoryStore::new())).await;
}

/// A store whose lookups fold more than ASCII, as PostgreSQL's `lower()` does
/// under a non-C collation (`İ` to `i`): every other call goes to a memory store.
struct FoldingStore(MemoryStore);

#[async_trait]
impl UserStore<User> for FoldingStore {
    async fn get(&self, id: &uuid::Uuid) -> Result<Option<User>, warden::StoreError> {
        self.0.get(id).await
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<User>, warden::StoreError> {
        self.0.get_by_email(&email.replace('İ', "i")).await
    }
    async fn get_by_login(&self, login: &str) -> Result<Option<User>, warden::StoreError> {
        self.0.get_by_login(&login.replace('İ', "i")).await
    }
    async fn create(&self, user: User) -> Result<User, warden::StoreError> {
        self.0.create(user).await
    }
    async fn update(&self, user: User) -> Result<User, warden::StoreError> {
        self.0.update(user).await
    }
    async fn replace(&self, expected: &User, new: User) -> Result<User, warden::StoreError> {
        self.0.replace(expected, new).await
    }
    async fn delete(&self, id: &uuid::Uuid) -> Result<(), warden::StoreError> {
        self.0.delete(id).await
    }
    fn counters(&self) -> Option<Arc<dyn warden_runtime::throttle::Counters>> {
        UserStore::<User>::counters(&self.0)
    }
}

/// Issue 18 item 13: `jİm@` finds `jim@`'s account where the database folds it,
/// and its failures count against that account, not against a spelling of their
/// own: three failures in two spellings reach the limit of three.
#[tokio::test]
async fn failures_spelled_differently_for_one_account_count_together() {
    let store: Arc<dyn UserStore<User>> = Arc::new(FoldingStore(MemoryStore::new()));
    let http = instance(
        store,
        limits(3, 1000, 1000),
        TrustedProxies::default(),
        Outbox::default(),
    )
    .await;
    http.register("jim@camelot.org", "holy-grail!").await;
    for spelling in ["jim@camelot.org", "JIM@camelot.org", "jİm@camelot.org"] {
        assert_eq!(
            login(&http, spelling, "wrong-password", None).await.status,
            400,
            "{spelling}"
        );
    }
    assert_throttled(&login(&http, "jim@camelot.org", "holy-grail!", None).await);
}

/// The device cookie a login answered with, as a `Cookie` header's pair.
fn device_cookie(reply: &common::Reply) -> String {
    let cookie = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap())
        .find(|value| value.starts_with("warden_device="))
        .unwrap_or_else(|| panic!("no device cookie: {:?}", reply.headers));
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    cookie.split(';').next().unwrap().to_owned()
}

/// Issue 18 item 5: an attacker's wrong guesses from elsewhere pass the account's
/// limit; the owner's browser, which signed in before and kept its device cookie,
/// still signs in (a client without one is still refused). Its own failures meet
/// the device's small limit, and past it the device counts as a stranger.
#[tokio::test]
async fn the_owners_browser_signs_in_after_wrong_guesses_from_elsewhere_pass_the_account_limit() {
    let store: Arc<dyn UserStore<User>> = Arc::new(MemoryStore::new());
    let attacker = instance(
        store,
        limits(3, 1000, 1000),
        TrustedProxies::default(),
        Outbox::default(),
    )
    .await;
    let owner = Http::browser(attacker.base.clone());
    owner.register("arthur@camelot.org", "excalibur!").await;
    let first = login(&owner, "arthur@camelot.org", "excalibur!", None).await;
    assert_eq!(first.status, 200, "{}", first.text);
    device_cookie(&first);

    for _ in 0..3 {
        let reply = login(&attacker, "arthur@camelot.org", "guess-guess", None).await;
        assert_eq!(reply.status, 400, "{}", reply.text);
        assert_eq!(reply.json(), json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
    }
    assert_throttled(&login(&attacker, "arthur@camelot.org", "guess-guess", None).await);
    assert_throttled(&login(&attacker, "arthur@camelot.org", "excalibur!", None).await);

    let again = login(&owner, "arthur@camelot.org", "excalibur!", None).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json()["token_type"], "bearer");
    // The owner's success gave the attacker no fresh guesses.
    assert_throttled(&login(&attacker, "arthur@camelot.org", "excalibur!", None).await);

    // A thief of the cookie gets the device's two guesses, then is a stranger.
    for _ in 0..2 {
        assert_eq!(
            login(&owner, "arthur@camelot.org", "guess-guess", None)
                .await
                .status,
            400
        );
    }
    assert_throttled(&login(&owner, "arthur@camelot.org", "excalibur!", None).await);
}

/// A device cookie vouches for its own account only.
#[tokio::test]
async fn a_device_cookie_of_another_account_does_not_exempt_a_login() {
    let store: Arc<dyn UserStore<User>> = Arc::new(MemoryStore::new());
    let attacker = instance(
        store,
        limits(3, 1000, 1000),
        TrustedProxies::default(),
        Outbox::default(),
    )
    .await;
    attacker
        .register("bedivere@camelot.org", "one-armed!")
        .await;
    attacker.register("kay@camelot.org", "seneschal!").await;
    let signed_in = login(&attacker, "kay@camelot.org", "seneschal!", None).await;
    assert_eq!(signed_in.status, 200);
    let kays = device_cookie(&signed_in);
    for _ in 0..3 {
        assert_eq!(
            login(&attacker, "bedivere@camelot.org", "guess-guess", None)
                .await
                .status,
            400
        );
    }
    assert_throttled(
        &login_with(
            &attacker,
            "bedivere@camelot.org",
            "one-armed!",
            None,
            Some(&kays),
        )
        .await,
    );
    // Kay's own login with it still passes (not throttled for Kay's account anyway).
    assert_eq!(
        login_with(
            &attacker,
            "kay@camelot.org",
            "seneschal!",
            None,
            Some(&kays)
        )
        .await
        .status,
        200
    );
}

/// A password change ends the device cookies issued before it, and so does "log
/// out everywhere": an old one no longer exempts a login past the account limit.
#[tokio::test]
async fn after_a_password_change_or_logout_everywhere_the_old_device_cookie_no_longer_exempts() {
    let store: Arc<dyn UserStore<User>> = Arc::new(MemoryStore::new());
    let clock = Clock::manual(common::now());
    let http = instance_on(
        store,
        limits(3, 1000, 1000),
        TrustedProxies::default(),
        Outbox::default(),
        clock.clone(),
    )
    .await;
    http.register("lancelot@camelot.org", "guinevere!").await;
    let signed_in = login(&http, "lancelot@camelot.org", "guinevere!", None).await;
    assert_eq!(signed_in.status, 200);
    let old = device_cookie(&signed_in);
    let token = signed_in.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The cookie is good before the change…
    for _ in 0..3 {
        assert_eq!(
            login(&http, "lancelot@camelot.org", "guess-guess", None)
                .await
                .status,
            400
        );
    }
    assert_eq!(
        login_with(
            &http,
            "lancelot@camelot.org",
            "guinevere!",
            None,
            Some(&old)
        )
        .await
        .status,
        200
    );
    // …and not after it.
    clock.advance(1);
    http.change_password(&token, "elaine-of-corbenic").await;
    assert_throttled(
        &login_with(
            &http,
            "lancelot@camelot.org",
            "elaine-of-corbenic",
            None,
            Some(&old),
        )
        .await,
    );

    // "Log out everywhere" ends them too: a cookie issued after the change works
    // until the owner ends every session.
    let tristan = "tristan@camelot.org";
    http.register(tristan, "isolde-isolde").await;
    let signed_in = login(&http, tristan, "isolde-isolde", None).await;
    let cookie = device_cookie(&signed_in);
    let token = signed_in.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..3 {
        assert_eq!(login(&http, tristan, "guess-guess", None).await.status, 400);
    }
    clock.advance(1);
    let ended = http
        .send(Method::DELETE, "/users/me/sessions", Some(&token), None)
        .await;
    assert_eq!(ended.status, 204, "{}", ended.text);
    assert_throttled(&login_with(&http, tristan, "isolde-isolde", None, Some(&cookie)).await);
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
