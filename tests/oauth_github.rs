//! "Log in with GitHub": the `provider = "github"` preset against a local server that
//! serves GitHub's documented responses (docs.github.com: "Authorizing OAuth apps",
//! "Get the authenticated user", "List email addresses for the authenticated user"),
//! named as such: it is not GitHub, only its answers' shapes. Run on SQLite and
//! PostgreSQL.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use common::{Http, Jwt, Reply, serve};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use warden::{OAuthOptions, User, UserStore, Warden, oauth_client};

/// GitHub's documented responses, per login: `/user` and `/user/emails`.
fn account(login: &str) -> Option<(Value, Value)> {
    Some(match login {
        // A public, verified primary e-mail.
        "octocat" => (
            json!({"login": "octocat", "id": 583231, "email": "octocat@github.com", "name": "The Octocat"}),
            json!([{"email": "octocat@github.com", "primary": true, "verified": true, "visibility": "public"}]),
        ),
        // A private e-mail: null in /user, listed by /user/emails.
        "private" => (
            json!({"login": "private", "id": 2, "email": null}),
            json!([
                {"email": "old@example.com", "primary": false, "verified": true, "visibility": null},
                {"email": "private@example.com", "primary": true, "verified": true, "visibility": "private"}
            ]),
        ),
        // A primary e-mail GitHub has not verified.
        "unverified" => (
            json!({"login": "unverified", "id": 3, "email": null}),
            json!([{"email": "dana@example.com", "primary": true, "verified": false, "visibility": null}]),
        ),
        _ => return None,
    })
}

/// An authorization GitHub granted, until its code is redeemed.
struct Granted {
    login: String,
    code_challenge: String,
    redirect_uri: String,
}

#[derive(Clone, Default)]
struct GitHubDocumentedResponses {
    codes: Arc<Mutex<HashMap<String, Granted>>>,
    /// access token → login
    tokens: Arc<Mutex<HashMap<String, String>>>,
}

/// `GET /login/oauth/authorize`: GitHub shows its page; here the `login` query
/// parameter says who signs in, and the answer is the redirect with `code`.
async fn authorize(
    State(github): State<GitHubDocumentedResponses>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let code = format!("code-{}", uuid::Uuid::new_v4().simple());
    github.codes.lock().unwrap().insert(
        code.clone(),
        Granted {
            login: query["login"].clone(),
            code_challenge: query.get("code_challenge").cloned().unwrap_or_default(),
            redirect_uri: query["redirect_uri"].clone(),
        },
    );
    let redirect = format!(
        "{}?code={code}&state={}",
        query["redirect_uri"],
        urlencode(&query["state"])
    );
    Redirect::to(&redirect).into_response()
}

fn urlencode(value: &str) -> String {
    serde_urlencoded::to_string([("", value)]).unwrap()[1..].to_owned()
}

/// `POST /login/oauth/access_token` with `Accept: application/json`: GitHub answers
/// a bad code with 200 and an `error`.
async fn access_token(
    State(github): State<GitHubDocumentedResponses>,
    Form(form): Form<HashMap<String, String>>,
) -> Json<Value> {
    let bad = Json(json!({
        "error": "bad_verification_code",
        "error_description": "The code passed is incorrect or expired.",
        "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"
    }));
    if form.get("client_id").map(String::as_str) != Some("Iv1.github-test")
        || form.get("client_secret").map(String::as_str) != Some("github-test-secret")
    {
        return Json(json!({"error": "incorrect_client_credentials"}));
    }
    let Some(Granted {
        login,
        code_challenge,
        redirect_uri,
    }) = form
        .get("code")
        .and_then(|code| github.codes.lock().unwrap().remove(code))
    else {
        return bad;
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    if computed != code_challenge || form.get("redirect_uri") != Some(&redirect_uri) {
        return bad;
    }
    let token = format!("gho_{}", uuid::Uuid::new_v4().simple());
    github.tokens.lock().unwrap().insert(token.clone(), login);
    Json(json!({"access_token": token, "scope": "read:user,user:email", "token_type": "bearer"}))
}

fn login_of(github: &GitHubDocumentedResponses, headers: &HeaderMap) -> Option<String> {
    let token = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    headers.get("user-agent")?;
    github.tokens.lock().unwrap().get(token).cloned()
}

async fn user(State(github): State<GitHubDocumentedResponses>, headers: HeaderMap) -> Response {
    match login_of(&github, &headers).and_then(|login| account(&login)) {
        Some((user, _)) => Json(user).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Requires authentication"})),
        )
            .into_response(),
    }
}

async fn emails(State(github): State<GitHubDocumentedResponses>, headers: HeaderMap) -> Response {
    match login_of(&github, &headers).and_then(|login| account(&login)) {
        Some((_, emails)) => Json(emails).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Requires authentication"})),
        )
            .into_response(),
    }
}

/// Where the server of GitHub's documented responses listens: a fixed port, since
/// the client's URLs are constants of its declaration (GitHub Enterprise Server's
/// `github_url` setting).
const GITHUB: &str = "http://127.0.0.1:57998";

/// Starts the server once for the whole test binary, on a thread of its own (each
/// test has its own runtime, which ends with it).
fn start_github() {
    static STARTED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    STARTED.get_or_init(|| {
        let (ready, wait) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let github = GitHubDocumentedResponses::default();
                let app = Router::new()
                    .route("/login/oauth/authorize", get(authorize))
                    .route("/login/oauth/access_token", post(access_token))
                    .route("/api/user", get(user))
                    .route("/api/user/emails", get(emails))
                    .with_state(github);
                let listener = tokio::net::TcpListener::bind(GITHUB.trim_start_matches("http://"))
                    .await
                    .expect("port 57998 is free for the GitHub test server");
                ready.send(()).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        wait.recv().unwrap();
    });
}

#[oauth_client(
    name = "github",
    provider = "github",
    github_url = "http://127.0.0.1:57998",
    github_api_url = "http://127.0.0.1:57998/api",
    client_id = "Iv1.github-test",
    client_secret = "github-test-secret"
)]
struct GitHub;

const STATE_SECRET: &str = "a-state-secret-of-at-least-32-bytes-long";

async fn flow(store: impl UserStore) {
    start_github();
    let github = GITHUB;
    let warden: Warden = Warden::builder()
        .store(store)
        .backend::<Jwt>()
        .unwrap()
        .oauth::<GitHub, Jwt>(OAuthOptions::new("http://127.0.0.1:9", STATE_SECRET))
        .unwrap()
        .oauth::<GitHub, Jwt>(
            OAuthOptions::new("http://127.0.0.1:9", STATE_SECRET)
                .route("github-link")
                .associate_by_email(true),
        )
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(serve(common::app(&warden)).await);
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let log_in = async |route: &str, login: &str| -> Reply {
        let reply = http
            .send(Method::GET, &format!("/auth/{route}/authorize"), None, None)
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let url = reply.json()["authorization_url"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            url.starts_with(&format!("{github}/login/oauth/authorize?")),
            "{url}"
        );
        let asked: HashMap<String, String> =
            serde_urlencoded::from_str(url.split_once('?').unwrap().1).unwrap();
        assert_eq!(asked["scope"], "read:user user:email");
        assert_eq!(asked["code_challenge_method"], "S256");
        let csrf = reply.header("set-cookie").unwrap()["fastapiusersoauthcsrf=".len()..]
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let at_github = browser
            .get(format!("{url}&login={login}"))
            .send()
            .await
            .unwrap();
        let back = at_github.headers()["location"].to_str().unwrap().to_owned();
        let query = back.split_once('?').unwrap().1;
        Reply::read(
            http.client
                .get(format!("{}/auth/{route}/callback?{query}", http.base))
                .header("cookie", format!("fastapiusersoauthcsrf={csrf}"))
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let me = async |reply: Reply| -> Value {
        assert_eq!(reply.status, 200, "{}", reply.text);
        let token = reply.json()["access_token"].as_str().unwrap().to_owned();
        http.me(&token).await.json()
    };

    let octocat = me(log_in("github", "octocat").await).await;
    assert_eq!(octocat["email"], "octocat@github.com");
    // Logging in again finds the linked account (by GitHub's numeric id).
    let again = me(log_in("github", "octocat").await).await;
    assert_eq!(again["id"], octocat["id"]);
    // A private e-mail comes from /user/emails, the primary one.
    let private = me(log_in("github", "private").await).await;
    assert_eq!(private["email"], "private@example.com");

    // An unverified primary e-mail never links to the local account that has it.
    let reply = http
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&json!({"email": "dana@example.com", "password": "local-password-1"})),
        )
        .await;
    assert_eq!(reply.status, 201);
    let reply = log_in("github-link", "unverified").await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "OAUTH_USER_ALREADY_EXISTS"}));

    // GitHub's 200-with-error for a bad code is a 400 here, never a 500.
    let reply = http
        .send(Method::GET, "/auth/github/authorize", None, None)
        .await;
    let url = reply.json()["authorization_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let state: HashMap<String, String> =
        serde_urlencoded::from_str(url.split_once('?').unwrap().1).unwrap();
    let csrf = reply.header("set-cookie").unwrap()["fastapiusersoauthcsrf=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let forged = Reply::read(
        http.client
            .get(format!(
                "{}/auth/github/callback?code=not-a-code&state={}",
                http.base,
                urlencode(&state["state"])
            ))
            .header("cookie", format!("fastapiusersoauthcsrf={csrf}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(forged.status, 400, "{}", forged.text);
    assert_eq!(forged.json(), json!({"detail": "Bad Request"}));
}

#[tokio::test]
async fn github_login_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("github.db").display());
    flow(warden::SqliteStore::<User>::open(&url).await.unwrap()).await;
}

#[tokio::test]
async fn github_login_on_postgres() {
    let Some((url, options)) = common::postgres("github_login_on_postgres").await else {
        return;
    };
    flow(
        warden::PostgresStore::<User>::connect_with(options, &url)
            .await
            .unwrap(),
    )
    .await;
}
