//! "Log in with ..." against a real OpenID provider (`oidc-provider` from npm, started
//! by `.ci/oidc-setup.sh`), driven headlessly: FastAPI Users' routes, codes, state
//! and cookie, plus PKCE, a nonce, the verified ID token, single-use state, and
//! e-mails linked or trusted only when the provider verified them. Each flow runs on
//! SQLite and PostgreSQL.

mod common;

use std::collections::HashMap;

use common::events::Collect;
use common::{Http, Jwt, Reply, serve};
use reqwest::Method;
use serde_json::{Value, json};
use warden::{OAuthOptions, User, UserStore, Warden, oauth_client};

#[oauth_client(
    name = "oidc",
    issuer = env("WARDEN_TEST_OIDC_ISSUER"),
    client_id = "warden-test",
    client_secret = "warden-test-secret",
    scopes = ["openid", "email", "profile"]
)]
struct Oidc;

/// The callback URLs registered at the test provider are on this (unused) address:
/// the test reads the redirect instead of following it.
const PUBLIC_URL: &str = "http://127.0.0.1:9";
const STATE_SECRET: &str = "a-state-secret-of-at-least-32-bytes-long";
const PASSWORD: &str = "local-password-1";
/// The AES-256 key the `oidc-verified` router seals provider tokens with.
const TOKEN_KEY: &str = "0123456789abcdef0123456789abcdef";

fn options() -> OAuthOptions {
    OAuthOptions::new(PUBLIC_URL, STATE_SECRET)
}

/// Records `on_after_register`: FastAPI Users calls it for users created by OAuth.
#[derive(Clone, Default)]
struct Registered(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

#[warden::async_trait]
impl warden::UserEvents<User> for Registered {
    async fn on_after_register(&self, user: &User) {
        self.0.lock().unwrap().push(user.email.clone());
    }

    /// The application's policy, asked by the one sign-in step on every way in: a
    /// provider login included.
    async fn admit(&self, user: &User, _sign_in: &warden::signin::SignIn<'_>) -> bool {
        !user.email.starts_with("refused-")
    }
}

async fn app_with_events(
    store: impl UserStore,
    events: Registered,
    security: Collect,
) -> (Http, Warden) {
    let warden: Warden = Warden::builder()
        .store(store)
        .events(events)
        .security_events(security)
        .backend::<Jwt>()
        .unwrap()
        .oauth::<Oidc, Jwt>(options())
        .unwrap()
        .oauth::<Oidc, Jwt>(options().route("oidc-link").associate_by_email(true))
        .unwrap()
        .oauth::<Oidc, Jwt>(
            options()
                .route("oidc-verified")
                .is_verified_by_default(true)
                .store_provider_tokens(TOKEN_KEY),
        )
        .unwrap()
        // A second router whose provider redirects to the first one's callback URL
        // (a single-page app's page serving both): the provider redeems either's code
        // at either, so only the state can tell them apart.
        .oauth::<Oidc, Jwt>(
            options()
                .route("oidc-spa")
                .redirect_url(format!("{PUBLIC_URL}/auth/oidc/callback"))
                .associate_by_email(true),
        )
        .unwrap()
        .build()
        .unwrap();
    (Http::new(serve(common::app(&warden)).await), warden)
}

/// What `GET /auth/{route}/authorize` gave: the URL and the CSRF cookie.
struct Authorization {
    url: String,
    csrf: String,
}

async fn authorize(http: &Http, route: &str) -> Authorization {
    let reply = http
        .send(Method::GET, &format!("/auth/{route}/authorize"), None, None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let cookie = reply.header("set-cookie").unwrap().to_owned();
    assert!(cookie.starts_with("fastapiusersoauthcsrf="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=lax"),
        "{cookie}"
    );
    let csrf = cookie["fastapiusersoauthcsrf=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    Authorization {
        url: reply.json()["authorization_url"]
            .as_str()
            .unwrap()
            .to_owned(),
        csrf,
    }
}

fn query(url: &str) -> HashMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    serde_urlencoded::from_str(query).unwrap()
}

/// Logs in at the provider as `login` (its test accounts: `alice@example.com` is
/// verified, `unverified-bob@example.com` gives `bob@example.com` unverified,
/// `noemail-...` gives no e-mail, `deny` refuses) and returns where it redirects
/// the browser.
async fn at_provider(url: &str, login: &str) -> HashMap<String, String> {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let issuer = url.split("/auth?").next().unwrap().to_owned();
    let location =
        |response: &reqwest::Response| response.headers()["location"].to_str().unwrap().to_owned();
    let start = browser.get(url).send().await.unwrap();
    assert_eq!(start.status(), 303, "{:?}", start.text().await);
    let interaction = location(&start);
    let interaction = if interaction.starts_with('/') {
        format!("{issuer}{interaction}")
    } else {
        interaction
    };
    let login = browser
        .post(&interaction)
        .form(&[("login", login)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let resume = browser.get(location(&login)).send().await.unwrap();
    assert_eq!(resume.status(), 303);
    let back = location(&resume);
    assert!(back.starts_with(PUBLIC_URL), "{back}");
    query(&back)
}

async fn callback(
    http: &Http,
    route: &str,
    params: &HashMap<String, String>,
    csrf: Option<&str>,
) -> Reply {
    let cookie = csrf.map(|csrf| format!("fastapiusersoauthcsrf={csrf}"));
    callback_with_cookies(http, route, params, cookie.as_deref()).await
}

/// The callback with `cookies` as the whole `Cookie` header.
async fn callback_with_cookies(
    http: &Http,
    route: &str,
    params: &HashMap<String, String>,
    cookies: Option<&str>,
) -> Reply {
    let query = serde_urlencoded::to_string(params).unwrap();
    let mut request = http
        .client
        .get(format!("{}/auth/{route}/callback?{query}", http.base));
    if let Some(cookies) = cookies {
        request = request.header("cookie", cookies);
    }
    Reply::read(request.send().await.unwrap()).await
}

/// The whole dance: authorize, the provider, the callback.
async fn log_in(http: &Http, route: &str, login: &str) -> Reply {
    let authorization = authorize(http, route).await;
    let params = at_provider(&authorization.url, login).await;
    callback(http, route, &params, Some(&authorization.csrf)).await
}

fn detail(reply: &Reply, status: u16, detail: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.json(), json!({ "detail": detail }));
}

async fn me(http: &Http, reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.text);
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    let me = http.me(&token).await;
    assert_eq!(me.status, 200, "{}", me.text);
    me.json()
}

/// Marks a stored user's e-mail verified, as following the verification e-mail
/// would.
async fn mark_verified(warden: &Warden, email: &str) {
    let store = warden.manager().store();
    let mut user = store.get_by_email(email).await.unwrap().unwrap();
    user.is_verified = true;
    store.update(user).await.unwrap();
}

/// Registers with the test password; the new user's id.
async fn register(http: &Http, email: &str) -> String {
    http.register(email, PASSWORD).await
}

async fn flow(store: impl UserStore) {
    let registered = Registered::default();
    let security = Collect::default();
    let (http, warden) = app_with_events(store, registered.clone(), security.clone()).await;

    // The authorization request: code flow, PKCE S256, a nonce, the state; the
    // verifier never in the URL.
    let authorization = authorize(&http, "oidc").await;
    let asked = query(&authorization.url);
    assert_eq!(asked["response_type"], "code");
    assert_eq!(asked["client_id"], "warden-test");
    assert_eq!(
        asked["redirect_uri"],
        format!("{PUBLIC_URL}/auth/oidc/callback")
    );
    assert_eq!(asked["code_challenge_method"], "S256");
    assert_eq!(asked["code_challenge"].len(), 43);
    assert!(asked["nonce"].len() >= 32);
    assert_eq!(asked["scope"], "openid email profile");
    assert!(!asked.contains_key("code_verifier"));

    // A new user, created unverified (the default), logged in through the backend.
    let params = at_provider(&authorization.url, "alice@example.com").await;
    let reply = callback(&http, "oidc", &params, Some(&authorization.csrf)).await;
    let alice = me(&http, &reply).await;
    assert_eq!(alice["email"], "alice@example.com");
    assert_eq!(alice["is_verified"], false);
    // The sign-in records how: the provider's ID token names no `amr` of its own,
    // so warden's federated value (RFC 8176 has none for a provider's login).
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(common::claims(&token)["amr"], json!(["fed"]));
    // The CSRF cookie is cleared.
    assert!(
        reply
            .headers
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("fastapiusersoauthcsrf=;")),
        "{:?}",
        reply.headers
    );
    // The same state again: refused before the code is even redeemed.
    detail(
        &callback(&http, "oidc", &params, Some(&authorization.csrf)).await,
        400,
        "OAUTH_INVALID_STATE",
    );
    // Logging in again finds the linked account.
    let again = me(&http, &log_in(&http, "oidc", "alice@example.com").await).await;
    assert_eq!(again["id"], alice["id"]);

    // State and cookie mistakes: FastAPI Users' codes, never a 500.
    let authorization = authorize(&http, "oidc").await;
    let params = at_provider(&authorization.url, "alice@example.com").await;
    detail(
        &callback(&http, "oidc", &params, None).await,
        400,
        "OAUTH_INVALID_STATE",
    );
    detail(
        &callback(&http, "oidc", &params, Some("another-value")).await,
        400,
        "OAUTH_INVALID_STATE",
    );
    let mut garbage = params.clone();
    garbage.insert("state".into(), "not-a-state".into());
    detail(
        &callback(&http, "oidc", &garbage, Some(&authorization.csrf)).await,
        400,
        "ACCESS_TOKEN_DECODE_ERROR",
    );

    // The provider refused: its error code, 400.
    let authorization = authorize(&http, "oidc").await;
    let params = at_provider(&authorization.url, "deny").await;
    detail(
        &callback(&http, "oidc", &params, Some(&authorization.csrf)).await,
        400,
        "access_denied",
    );

    // The provider's e-mail is normalised as registration's (the domain lower-cased),
    // and the user created through it is announced as a registration.
    let upper = me(
        &http,
        &log_in(&http, "oidc", "Upper.Case@EXAMPLE.com").await,
    )
    .await;
    assert_eq!(upper["email"], "Upper.Case@example.com");
    assert_eq!(
        *registered.0.lock().unwrap(),
        ["alice@example.com", "Upper.Case@example.com"]
    );

    // No e-mail at the provider.
    detail(
        &log_in(&http, "oidc", "noemail-carol").await,
        400,
        "OAUTH_NOT_AVAILABLE_EMAIL",
    );

    // An existing local account: never linked without the option...
    let dave = register(&http, "dave@example.com").await;
    detail(
        &log_in(&http, "oidc", "dave@example.com").await,
        400,
        "OAUTH_USER_ALREADY_EXISTS",
    );
    // ...nor with it while the local account has not verified its e-mail (whoever
    // registered it first may not own the mailbox: a pre-account takeover)...
    detail(
        &log_in(&http, "oidc-link", "dave@example.com").await,
        400,
        "OAUTH_USER_ALREADY_EXISTS",
    );
    // ...linked with it once the provider and the local account both verified it...
    mark_verified(&warden, "dave@example.com").await;
    let linked = me(&http, &log_in(&http, "oidc-link", "dave@example.com").await).await;
    assert_eq!(linked["id"], dave.as_str());
    // ...and its owner hears of it: a way into the account was added.
    assert_eq!(
        security.named("account_linked").await,
        [json!({"event": "account_linked", "user_id": dave, "provider": "oidc"})]
    );
    // ...and never for an e-mail the provider did not verify (FastAPI Users links it:
    // whoever controls that provider account would take Bob's over).
    register(&http, "bob@example.com").await;
    detail(
        &log_in(&http, "oidc-link", "unverified-bob@example.com").await,
        400,
        "OAUTH_USER_ALREADY_EXISTS",
    );

    // is_verified_by_default trusts only verified e-mails.
    let erin = me(
        &http,
        &log_in(&http, "oidc-verified", "erin@example.com").await,
    )
    .await;
    assert_eq!(erin["is_verified"], true);

    // Provider tokens: kept only by the router that asks, sealed at rest, and the
    // application gets them back in clear, usable at the provider.
    let accounts = warden.manager().store().oauth_accounts().unwrap();
    let user_of = async |email: &str| {
        warden
            .manager()
            .store()
            .get_by_email(email)
            .await
            .unwrap()
            .unwrap()
    };
    let erin_user = user_of("erin@example.com").await;
    let row = accounts
        .of_user("oidc", &erin_user.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert!(row.access_token.starts_with("v2."), "{}", row.access_token);
    assert!(
        row.refresh_token
            .as_deref()
            .is_some_and(|t| t.starts_with("v2."))
    );
    assert!(row.expires_at.is_some());
    let tokens = warden
        .provider_tokens("oidc-verified", &erin_user)
        .await
        .unwrap()
        .expect("the router keeps them");
    assert!(!row.access_token.contains(&tokens.access_token));
    let issuer = std::env::var("WARDEN_TEST_OIDC_ISSUER").unwrap();
    let userinfo: Value = reqwest::Client::new()
        .get(format!("{issuer}/me"))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["email"], "erin@example.com");
    assert!(!format!("{tokens:?}").contains(&tokens.access_token));
    let alice_user = user_of("alice@example.com").await;
    let row = accounts
        .of_user("oidc", &alice_user.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.access_token.as_str(), row.refresh_token), ("", None));
    assert!(
        warden
            .provider_tokens("oidc", &alice_user)
            .await
            .unwrap()
            .is_none()
    );
    let frank = me(
        &http,
        &log_in(&http, "oidc-verified", "unverified-frank@example.com").await,
    )
    .await;
    assert_eq!(frank["email"], "frank@example.com");
    assert_eq!(frank["is_verified"], false);

    // A deactivated user is refused as FastAPI Users does.
    let stored = warden
        .manager()
        .store()
        .get_by_email("erin@example.com")
        .await
        .unwrap()
        .unwrap();
    let mut inactive = stored.clone();
    inactive.is_active = false;
    warden.manager().store().update(inactive).await.unwrap();
    detail(
        &log_in(&http, "oidc-verified", "erin@example.com").await,
        400,
        "LOGIN_BAD_CREDENTIALS",
    );
    // So is a user the application's policy refuses: the callback's own refusal,
    // and no session opened.
    detail(
        &log_in(&http, "oidc", "refused-gil@example.com").await,
        400,
        "LOGIN_BAD_CREDENTIALS",
    );
}

/// Runs `flow` on a SQLite file and on PostgreSQL, when the provider runs.
macro_rules! on_both_stores {
    ($flow:ident, $sqlite:ident, $postgres:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            if common::oidc(stringify!($sqlite)).is_none() {
                return;
            }
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("oauth.db").display());
            $flow(warden::SqliteStore::<User>::open(&url).await.unwrap()).await;
        }

        #[tokio::test]
        async fn $postgres() {
            if common::oidc(stringify!($postgres)).is_none() {
                return;
            }
            let Some((url, options)) = common::postgres(stringify!($postgres)).await else {
                return;
            };
            $flow(
                warden::PostgresStore::<User>::connect_with(options, &url)
                    .await
                    .unwrap(),
            )
            .await;
        }
    };
}

on_both_stores!(flow, oidc_login_on_sqlite, oidc_login_on_postgres);
on_both_stores!(
    associate_flow,
    oidc_associate_on_sqlite,
    oidc_associate_on_postgres
);
on_both_stores!(
    linked_accounts_flow,
    linked_accounts_are_listed_without_tokens_and_the_last_way_in_stays_on_sqlite,
    linked_accounts_are_listed_without_tokens_and_the_last_way_in_stays_on_postgres
);

/// A provider that cannot be reached: the app starts, and the authorize route
/// answers 503 (FastAPI Users cannot start while its provider is down).
#[oauth_client(
    name = "gone",
    issuer = "http://127.0.0.1:1",
    client_id = "warden-test",
    client_secret = "warden-test-secret"
)]
struct Gone;

#[tokio::test]
async fn an_unreachable_provider_is_a_503_and_bad_callbacks_are_400s() {
    let warden: Warden = Warden::builder()
        .store(warden::MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .oauth::<Gone, Jwt>(options())
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(serve(common::app(&warden)).await);
    let reply = http
        .send(Method::GET, "/auth/gone/authorize", None, None)
        .await;
    detail(&reply, 503, "Service Unavailable");
    let none = HashMap::new();
    detail(
        &callback(&http, "gone", &none, None).await,
        400,
        "Bad Request",
    );
    let mut no_state = HashMap::new();
    no_state.insert("code".to_owned(), "a-code".to_owned());
    detail(
        &callback(&http, "gone", &no_state, None).await,
        400,
        "ACCESS_TOKEN_DECODE_ERROR",
    );
    // A provider error that is not a plain code is not echoed.
    let mut odd = HashMap::new();
    odd.insert("error".to_owned(), "<script>alert(1)</script>".to_owned());
    detail(
        &callback(&http, "gone", &odd, None).await,
        400,
        "Bad Request",
    );
    // The routes are in the document under FastAPI Users' operation ids.
    let doc = http
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .json();
    assert_eq!(
        doc["paths"]["/auth/gone/authorize"]["get"]["operationId"],
        "oauth_gone_jwt_authorize_auth_gone_authorize_get"
    );
    assert_eq!(
        doc["paths"]["/auth/gone/callback"]["get"]["operationId"],
        "oauth_gone_jwt_callback_auth_gone_callback_get"
    );
}

/// The associate router: a logged-in user links a provider account to themself.
async fn associate_flow(store: impl UserStore) {
    let (http, _warden) = app_with_associate(store).await;
    register(&http, "gwen@example.com").await;
    let token = http.login("jwt", "gwen@example.com", PASSWORD).await;

    // Only for a logged-in user.
    let reply = http
        .send(Method::GET, "/auth/associate/oidc/authorize", None, None)
        .await;
    detail(&reply, 401, "Unauthorized");

    let associate = async |token: &str, login: &str| associate(&http, token, login).await;

    // Any provider account, whatever its e-mail: the user proves both sides.
    let reply = associate(&token, "gwen.work@example.com").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["email"], "gwen@example.com");
    // That provider account now logs Gwen in.
    let login = me(&http, &log_in(&http, "oidc", "gwen.work@example.com").await).await;
    assert_eq!(login["email"], "gwen@example.com");

    // An account linked to someone else is refused with a clear 400.
    register(&http, "hank@example.com").await;
    let hank = http.login("jwt", "hank@example.com", PASSWORD).await;
    detail(
        &associate(&hank, "gwen.work@example.com").await,
        400,
        "OAUTH_ACCOUNT_ALREADY_LINKED",
    );
    // Linking one's own account again is harmless.
    assert_eq!(associate(&token, "gwen.work@example.com").await.status, 200);

    // A login state is no associate state, and another user's state is refused.
    let authorization = authorize(&http, "oidc").await;
    let params = at_provider(&authorization.url, "ivy@example.com").await;
    let query = serde_urlencoded::to_string(&params).unwrap();
    let reply = Reply::read(
        http.client
            .get(format!(
                "{}/auth/associate/oidc/callback?{query}",
                http.base
            ))
            .bearer_auth(&token)
            .header(
                "cookie",
                format!("fastapiusersoauthcsrf={}", authorization.csrf),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    detail(&reply, 400, "OAUTH_INVALID_STATE");
}

/// The associate router's whole dance for the user of `token`, who logs in at the
/// provider as `login`: the callback's reply.
async fn associate(http: &Http, token: &str, login: &str) -> Reply {
    let reply = http
        .send(
            Method::GET,
            "/auth/associate/oidc/authorize",
            Some(token),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let cookie = reply.header("set-cookie").unwrap().to_owned();
    let csrf = cookie["fastapiusersoauthcsrf=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let url = reply.json()["authorization_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        query(&url)["redirect_uri"],
        format!("{PUBLIC_URL}/auth/associate/oidc/callback")
    );
    let params = at_provider(&url, login).await;
    let query = serde_urlencoded::to_string(&params).unwrap();
    Reply::read(
        http.client
            .get(format!(
                "{}/auth/associate/oidc/callback?{query}",
                http.base
            ))
            .bearer_auth(token)
            .header("cookie", format!("fastapiusersoauthcsrf={csrf}"))
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn app_with_associate(store: impl UserStore) -> (Http, Warden) {
    let warden: Warden = Warden::builder()
        .store(store)
        .backend::<Jwt>()
        .unwrap()
        .oauth::<Oidc, Jwt>(options())
        .unwrap()
        .oauth_associate::<Oidc>(options())
        .unwrap()
        .build()
        .unwrap();
    (Http::new(serve(common::app(&warden)).await), warden)
}

/// The claims of a state, as anyone who sees the authorization response's URL reads
/// them (a Referer, a proxy's log, the browser's history).
fn state_claims(state: &str) -> Value {
    use base64::Engine;
    let payload = state.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// The app of `flow`, on a SQLite file, when the provider runs.
async fn sqlite_app(test: &str) -> Option<(Http, Warden, tempfile::TempDir)> {
    common::oidc(test)?;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("oauth.db").display());
    let store = warden::SqliteStore::<User>::open(&url).await.unwrap();
    let (http, warden) = app_with_events(store, Registered::default(), Collect::default()).await;
    Some((http, warden, dir))
}

/// RFC 9700 §4.5: whoever obtains a victim's `code` and `state` and puts in the
/// cookie what the state shows (FastAPI Users' `csrftoken` is the cookie's value)
/// is refused; the victim's own browser still logs in.
#[tokio::test]
async fn a_leaked_code_and_state_do_not_log_the_attacker_in() {
    let Some((http, _warden, _dir)) =
        sqlite_app("a_leaked_code_and_state_do_not_log_the_attacker_in").await
    else {
        return;
    };
    let victim = authorize(&http, "oidc").await;
    let params = at_provider(&victim.url, "alice@example.com").await;
    let claims = state_claims(&params["state"]);
    let shown: Vec<&str> = claims
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_str)
        .collect();
    for &value in &shown {
        detail(
            &callback(&http, "oidc", &params, Some(value)).await,
            400,
            "OAUTH_INVALID_STATE",
        );
    }
    assert!(!shown.contains(&victim.csrf.as_str()), "{claims}");
    // Refused before the code was redeemed or the state spent.
    let alice = me(
        &http,
        &callback(&http, "oidc", &params, Some(&victim.csrf)).await,
    )
    .await;
    assert_eq!(alice["email"], "alice@example.com");
}

/// A state made by one router is refused at another's callback, even when the
/// provider would redeem the code there (both redirect to one URL): the other
/// router's policy (here `associate_by_email`) never applies to it.
#[tokio::test]
async fn a_state_of_one_router_is_refused_at_another() {
    let Some((http, _warden, _dir)) =
        sqlite_app("a_state_of_one_router_is_refused_at_another").await
    else {
        return;
    };
    let victim = authorize(&http, "oidc").await;
    let params = at_provider(&victim.url, "alice@example.com").await;
    detail(
        &callback(&http, "oidc-spa", &params, Some(&victim.csrf)).await,
        400,
        "OAUTH_INVALID_STATE",
    );
    let alice = me(
        &http,
        &callback(&http, "oidc", &params, Some(&victim.csrf)).await,
    )
    .await;
    assert_eq!(alice["email"], "alice@example.com");
}

/// RFC 9207: an authorization response naming another issuer is refused (a mix-up
/// attack), and so is one naming none from a provider whose metadata sets
/// `authorization_response_iss_parameter_supported` (the test provider does).
#[tokio::test]
async fn an_authorization_response_of_another_issuer_is_refused() {
    let Some((http, _warden, _dir)) =
        sqlite_app("an_authorization_response_of_another_issuer_is_refused").await
    else {
        return;
    };
    let victim = authorize(&http, "oidc").await;
    let params = at_provider(&victim.url, "alice@example.com").await;
    assert_eq!(
        params["iss"],
        std::env::var("WARDEN_TEST_OIDC_ISSUER").unwrap()
    );
    let mut other = params.clone();
    other.insert("iss".into(), "https://attacker.example".into());
    detail(
        &callback(&http, "oidc", &other, Some(&victim.csrf)).await,
        400,
        "Bad Request",
    );
    let mut none = params.clone();
    none.remove("iss");
    detail(
        &callback(&http, "oidc", &none, Some(&victim.csrf)).await,
        400,
        "Bad Request",
    );
    let alice = me(
        &http,
        &callback(&http, "oidc", &params, Some(&victim.csrf)).await,
    )
    .await;
    assert_eq!(alice["email"], "alice@example.com");
}

/// Two CSRF cookies in one request (one planted beside ours: cookie tossing) are
/// refused, whichever comes first.
#[tokio::test]
async fn a_request_with_two_csrf_cookies_is_refused() {
    let Some((http, _warden, _dir)) =
        sqlite_app("a_request_with_two_csrf_cookies_is_refused").await
    else {
        return;
    };
    let victim = authorize(&http, "oidc").await;
    let params = at_provider(&victim.url, "alice@example.com").await;
    let csrf = &victim.csrf;
    for cookies in [
        format!("fastapiusersoauthcsrf={csrf}; fastapiusersoauthcsrf=planted"),
        format!("fastapiusersoauthcsrf=planted; fastapiusersoauthcsrf={csrf}"),
    ] {
        detail(
            &callback_with_cookies(&http, "oidc", &params, Some(&cookies)).await,
            400,
            "OAUTH_INVALID_STATE",
        );
    }
    let alice = me(&http, &callback(&http, "oidc", &params, Some(csrf)).await).await;
    assert_eq!(alice["email"], "alice@example.com");
}

/// Over HTTPS the CSRF cookie is `__Host-`-prefixed (Secure, Path=/, no Domain: a
/// sibling subdomain cannot plant one), and a cookie of FastAPI Users' plain name
/// is not read.
#[tokio::test]
async fn over_https_the_csrf_cookie_is_host_prefixed() {
    let Some(issuer) = common::oidc("over_https_the_csrf_cookie_is_host_prefixed") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("oauth.db").display());
    let warden: Warden = Warden::builder()
        .store(warden::SqliteStore::<User>::open(&url).await.unwrap())
        .backend::<Jwt>()
        .unwrap()
        .oauth::<Oidc, Jwt>(OAuthOptions::new("https://app.example.com", STATE_SECRET))
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(serve(common::app(&warden)).await);
    let reply = http
        .send(Method::GET, "/auth/oidc/authorize", None, None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let cookie = reply.header("set-cookie").unwrap().to_owned();
    let prefix = "__Host-fastapiusersoauthcsrf=";
    assert!(cookie.starts_with(prefix), "{cookie}");
    assert!(
        cookie.contains("; Secure") && cookie.contains("; Path=/") && !cookie.contains("Domain"),
        "{cookie}"
    );
    let csrf = cookie[prefix.len()..].split(';').next().unwrap().to_owned();
    let state = query(reply.json()["authorization_url"].as_str().unwrap())["state"].clone();
    let params: HashMap<String, String> = [
        ("code".to_owned(), "not-a-code".to_owned()),
        ("state".to_owned(), state),
        ("iss".to_owned(), issuer),
    ]
    .into();
    detail(
        &callback(&http, "oidc", &params, Some(&csrf)).await,
        400,
        "OAUTH_INVALID_STATE",
    );
    // The prefixed cookie passes the state check: the provider then refuses the code.
    detail(
        &callback_with_cookies(&http, "oidc", &params, Some(&format!("{prefix}{csrf}"))).await,
        400,
        "Bad Request",
    );
}

/// A pre-account takeover: the attacker registers the victim's address first (and
/// cannot verify it), or changes their own verified account's address into it
/// (which unverifies it); the victim's later login through an `associate_by_email`
/// router is refused, and the attacker's account is not linked to her provider
/// account.
#[tokio::test]
async fn an_unverified_account_with_the_victims_email_is_not_linked() {
    let Some((http, warden, _dir)) =
        sqlite_app("an_unverified_account_with_the_victims_email_is_not_linked").await
    else {
        return;
    };
    let accounts = warden.manager().store().oauth_accounts().unwrap();
    let squatter = register(&http, "alice@example.com").await;
    detail(
        &log_in(&http, "oidc-link", "alice@example.com").await,
        400,
        "OAUTH_USER_ALREADY_EXISTS",
    );
    assert!(accounts.of_user("oidc", &squatter).await.unwrap().is_none());

    // A verified account of the attacker's own, its address changed into Carla's.
    let mallory = register(&http, "mallory@example.com").await;
    mark_verified(&warden, "mallory@example.com").await;
    let token = http.login("jwt", "mallory@example.com", PASSWORD).await;
    let changed = http
        .send(
            Method::PATCH,
            "/users/me",
            Some(&token),
            Some(&json!({"email": "carla@example.com"})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.json()["is_verified"], false);
    detail(
        &log_in(&http, "oidc-link", "carla@example.com").await,
        400,
        "OAUTH_USER_ALREADY_EXISTS",
    );
    assert!(accounts.of_user("oidc", &mallory).await.unwrap().is_none());
}

/// A briefly stolen token cannot link the thief's provider account (which would
/// outlive a password reset): with `require_current_password`, the associate
/// authorize route needs a sign-in of the last five minutes, and answers a stale
/// one as any step-up refusal (RFC 9470).
#[tokio::test]
async fn linking_a_provider_account_needs_a_fresh_sign_in() {
    if common::oidc("linking_a_provider_account_needs_a_fresh_sign_in").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("oauth.db").display());
    let clock = warden::Clock::manual(common::now());
    let warden: Warden = Warden::builder()
        .clock(clock.clone())
        .store(warden::SqliteStore::<User>::open(&url).await.unwrap())
        .require_current_password(true)
        .backend::<Jwt>()
        .unwrap()
        .oauth_associate::<Oidc>(options())
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(serve(common::app(&warden)).await);
    register(&http, "gwen@example.com").await;
    let token = http.login("jwt", "gwen@example.com", PASSWORD).await;
    let authorize = async |token: &str| {
        http.send(
            Method::GET,
            "/auth/associate/oidc/authorize",
            Some(token),
            None,
        )
        .await
    };
    assert_eq!(authorize(&token).await.status, 200);

    clock.advance(301);
    let stale = authorize(&token).await;
    detail(&stale, 401, "REAUTHENTICATION_REQUIRED");
    assert_eq!(
        stale.header("www-authenticate"),
        Some(r#"Bearer error="insufficient_user_authentication", max_age=300"#)
    );
    assert!(stale.header("set-cookie").is_none());

    // The password again (never in a URL): the same session, fresh.
    let again = Reply::read(
        http.client
            .post(format!("{}/auth/jwt/reauthenticate", http.base))
            .bearer_auth(&token)
            .form(&[("password", PASSWORD)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.text);
    let fresh = again.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(authorize(&fresh).await.status, 200);
}

/// `GET /users/me/oauth-accounts` lists the user's linked provider accounts without
/// their tokens; `DELETE /users/me/oauth-accounts/{oauth_name}/{account_id}` unlinks
/// one of the user's own, never another user's, and never a user's last way in.
async fn linked_accounts_flow(store: impl UserStore) {
    let security = Collect::default();
    let warden: Warden = Warden::builder()
        .store(store)
        .security_events(security.clone())
        .backend::<Jwt>()
        .unwrap()
        .oauth::<Oidc, Jwt>(options().store_provider_tokens(TOKEN_KEY))
        .unwrap()
        .oauth_associate::<Oidc>(options().store_provider_tokens(TOKEN_KEY))
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(serve(common::app(&warden)).await);
    let list = async |token: &str| {
        http.send(Method::GET, "/users/me/oauth-accounts", Some(token), None)
            .await
    };
    let unlink = async |token: &str, account: &str| {
        http.send(
            Method::DELETE,
            &format!(
                "/users/me/oauth-accounts/oidc/{}",
                common::urlencode(account)
            ),
            Some(token),
            None,
        )
        .await
    };
    let entry = |account: &str| json!({"oauth_name": "oidc", "account_id": account, "account_email": account});

    detail(&list("not-a-token").await, 401, "Unauthorized");

    // Erin signs up through the provider: no password, one linked account (whose
    // tokens the row keeps, sealed).
    let login = log_in(&http, "oidc", "erin@example.com").await;
    assert_eq!(login.status, 200, "{}", login.text);
    let erin = login.json()["access_token"].as_str().unwrap().to_owned();
    let listed = list(&erin).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.json(), json!([entry("erin@example.com")]));
    assert!(!listed.text.contains("token"), "{}", listed.text);

    // Her only way in: refused, still linked.
    detail(
        &unlink(&erin, "erin@example.com").await,
        400,
        "OAUTH_ACCOUNT_LAST_SIGN_IN",
    );
    assert_eq!(list(&erin).await.json(), json!([entry("erin@example.com")]));

    // With a second account linked, the first can go; it no longer opens hers.
    assert_eq!(
        associate(&http, &erin, "erin.work@example.com")
            .await
            .status,
        200
    );
    assert_eq!(
        list(&erin).await.json(),
        json!([entry("erin.work@example.com"), entry("erin@example.com")])
    );
    let done = unlink(&erin, "erin@example.com").await;
    assert_eq!(done.status, 204, "{}", done.text);
    assert_eq!(
        list(&erin).await.json(),
        json!([entry("erin.work@example.com")])
    );
    detail(
        &log_in(&http, "oidc", "erin@example.com").await,
        400,
        "OAUTH_USER_ALREADY_EXISTS",
    );
    let erin_id = common::claims(&erin)["sub"].clone();
    assert_eq!(
        security.named("account_unlinked").await,
        [json!({"event": "account_unlinked", "user_id": erin_id, "provider": "oidc"})]
    );
    // The one left is her last way in again.
    detail(
        &unlink(&erin, "erin.work@example.com").await,
        400,
        "OAUTH_ACCOUNT_LAST_SIGN_IN",
    );
    // Gone already, or never linked: 404.
    detail(&unlink(&erin, "erin@example.com").await, 404, "Not Found");

    // Someone else's account: 404, and it stays linked.
    register(&http, "gwen@example.com").await;
    let gwen = http.login("jwt", "gwen@example.com", PASSWORD).await;
    assert_eq!(list(&gwen).await.json(), json!([]));
    detail(
        &unlink(&gwen, "erin.work@example.com").await,
        404,
        "Not Found",
    );
    assert_eq!(
        list(&erin).await.json(),
        json!([entry("erin.work@example.com")])
    );

    // A user with a password may unlink their only account.
    assert_eq!(
        associate(&http, &gwen, "gwen.work@example.com")
            .await
            .status,
        200
    );
    assert_eq!(unlink(&gwen, "gwen.work@example.com").await.status, 204);
    assert_eq!(list(&gwen).await.json(), json!([]));
}

/// With `unlink_providers_on_recovery`, "log out everywhere" unlinks the provider
/// accounts of a user who has a password: one an attacker linked with a stolen
/// session does not outlive the owner's recovery. A user whose only way in is the
/// provider keeps it.
#[tokio::test]
async fn log_out_everywhere_unlinks_providers_but_never_the_only_way_in() {
    if common::oidc("log_out_everywhere_unlinks_providers_but_never_the_only_way_in").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("oauth.db").display());
    let security = Collect::default();
    let warden: Warden = Warden::builder()
        .store(warden::SqliteStore::<User>::open(&url).await.unwrap())
        .security_events(security.clone())
        .unlink_providers_on_recovery(true)
        .backend::<Jwt>()
        .unwrap()
        .oauth::<Oidc, Jwt>(options())
        .unwrap()
        .oauth_associate::<Oidc>(options())
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(serve(common::app(&warden)).await);
    let list = async |token: &str| {
        let reply = http
            .send(Method::GET, "/users/me/oauth-accounts", Some(token), None)
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()
    };
    let everywhere = async |token: &str| {
        let reply = http
            .send(Method::DELETE, "/users/me/sessions", Some(token), None)
            .await;
        assert_eq!(reply.status, 204, "{}", reply.text);
    };

    // Frank has a password; an account at the provider gets linked to him.
    let frank = register(&http, "frank@example.com").await;
    let token = http.login("jwt", "frank@example.com", PASSWORD).await;
    assert_eq!(
        associate(&http, &token, "mallory@example.com").await.status,
        200
    );
    assert_eq!(list(&token).await.as_array().map(Vec::len), Some(1));
    // He logs out everywhere: the link goes with the sessions.
    everywhere(&token).await;
    let token = http.login("jwt", "frank@example.com", PASSWORD).await;
    assert_eq!(list(&token).await, json!([]));
    assert_eq!(
        security.named("account_unlinked").await,
        [json!({"event": "account_unlinked", "user_id": frank, "provider": "oidc"})]
    );
    // The provider account no longer opens Frank's.
    let reply = log_in(&http, "oidc", "mallory@example.com").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_ne!(me(&http, &reply).await["id"], frank.as_str());

    // Erin signed up through the provider: no password, so her link stays.
    let erin = log_in(&http, "oidc", "erin@example.com").await;
    let erin = erin.json()["access_token"].as_str().unwrap().to_owned();
    everywhere(&erin).await;
    let again = log_in(&http, "oidc", "erin@example.com").await;
    assert_eq!(again.status, 200, "{}", again.text);
    let again = again.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(list(&again).await.as_array().map(Vec::len), Some(1));
}
