//! A local server of GitHub's documented OAuth responses (docs.github.com:
//! "Authorizing OAuth apps", "Get the authenticated user", "List email addresses for
//! the authenticated user"), named as such: it is not GitHub, only its answers'
//! shapes. A test binary starts it with [`start`] on the fixed address its
//! `#[oauth_client(provider = "github", github_url = ..., github_api_url = ...)]`
//! declaration names (`{github_url}` and `{github_url}/api`), with the client
//! credentials [`CLIENT_ID`] and [`CLIENT_SECRET`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Http, Reply};

/// The client id the server accepts (the declarations' `client_id`).
pub const CLIENT_ID: &str = "Iv1.github-test";
/// The client secret the server accepts (the declarations' `client_secret`).
pub const CLIENT_SECRET: &str = "github-test-secret";

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
        super::urlencode(&query["state"])
    );
    Redirect::to(&redirect).into_response()
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
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
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

/// The login a request's bearer token was issued to; GitHub's API also refuses a
/// request without a `User-Agent`.
fn login_of(github: &GitHubDocumentedResponses, headers: &HeaderMap) -> Option<String> {
    let token = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    headers.get("user-agent")?;
    github.tokens.lock().unwrap().get(token).cloned()
}

/// `GET /user` or `GET /user/emails`: `pick` chooses from the account's two answers.
fn answer(
    github: &GitHubDocumentedResponses,
    headers: &HeaderMap,
    pick: fn((Value, Value)) -> Value,
) -> Response {
    match login_of(github, headers).and_then(|login| account(&login)) {
        Some(answers) => Json(pick(answers)).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Requires authentication"})),
        )
            .into_response(),
    }
}

async fn user(State(github): State<GitHubDocumentedResponses>, headers: HeaderMap) -> Response {
    answer(&github, &headers, |(user, _)| user)
}

async fn emails(State(github): State<GitHubDocumentedResponses>, headers: HeaderMap) -> Response {
    answer(&github, &headers, |(_, emails)| emails)
}

/// Starts the server on `addr` (`127.0.0.1:PORT`, the port of the declaration's
/// URLs, one per test binary so that binaries may run at once) once for the whole
/// test binary, on a thread of its own: each test has its own runtime, which ends
/// with it. The port must lie below Linux's ephemeral range (32768-60999): a port
/// in it may be the local end of any outgoing connection of the moment (a test's
/// HTTP client, a database pool), and the bind then fails.
pub fn start(addr: &'static str) {
    static STARTED: OnceLock<&'static str> = OnceLock::new();
    let started = STARTED.get_or_init(|| {
        let (ready, wait) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let app = Router::new()
                    .route("/login/oauth/authorize", get(authorize))
                    .route("/login/oauth/access_token", post(access_token))
                    .route("/api/user", get(user))
                    .route("/api/user/emails", get(emails))
                    .with_state(GitHubDocumentedResponses::default());
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .unwrap_or_else(|e| panic!("{addr} is free for the GitHub test server: {e}"));
                ready.send(()).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        wait.recv().unwrap();
        addr
    });
    assert_eq!(*started, addr, "one GitHub test server per test binary");
}

/// A browser's "log in with GitHub" on the app `http` talks to: `GET
/// /auth/{route}/authorize` (asserts the 200), GitHub's page with `login` signing
/// in, then the callback with the CSRF cookie the authorize step set. The
/// authorization URL and the callback's reply.
pub async fn log_in(http: &Http, route: &str, login: &str) -> (String, Reply) {
    let (url, csrf) = super::oauth::authorize(http, route).await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let at_github = browser
        .get(format!("{url}&login={login}"))
        .send()
        .await
        .unwrap();
    let back = at_github.headers()["location"].to_str().unwrap().to_owned();
    let query = back.split_once('?').unwrap().1;
    let callback = super::oauth::callback(http, route, query, &csrf).await;
    (url, callback)
}
