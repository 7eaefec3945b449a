//! "Log in with GitHub": the `provider = "github"` preset against a local server that
//! serves GitHub's documented responses (docs.github.com: "Authorizing OAuth apps",
//! "Get the authenticated user", "List email addresses for the authenticated user"),
//! named as such: it is not GitHub, only its answers' shapes (`tests/common/github.rs`,
//! with its accounts). Run on SQLite and PostgreSQL.

mod common;

use std::collections::HashMap;

use common::{Http, Jwt, Reply, serve};
use reqwest::Method;
use serde_json::{Value, json};
use warden::{OAuthOptions, User, UserStore, Warden, oauth_client};

/// Where the server of GitHub's documented responses (`tests/common/github.rs`)
/// listens: a fixed port, since the client's URLs are constants of its declaration
/// (GitHub Enterprise Server's `github_url` setting).
const GITHUB: &str = "http://127.0.0.1:29998";

#[oauth_client(
    name = "github",
    provider = "github",
    github_url = "http://127.0.0.1:29998",
    github_api_url = "http://127.0.0.1:29998/api",
    client_id = "Iv1.github-test",
    client_secret = "github-test-secret"
)]
struct GitHub;

const STATE_SECRET: &str = "a-state-secret-of-at-least-32-bytes-long";

async fn flow(store: impl UserStore) {
    common::github::start(GITHUB.trim_start_matches("http://"));
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
    let log_in = async |route: &str, login: &str| -> Reply {
        let (url, reply) = common::github::log_in(&http, route, login).await;
        assert!(
            url.starts_with(&format!("{github}/login/oauth/authorize?")),
            "{url}"
        );
        let asked: HashMap<String, String> =
            serde_urlencoded::from_str(url.split_once('?').unwrap().1).unwrap();
        assert_eq!(asked["scope"], "read:user user:email");
        assert_eq!(asked["code_challenge_method"], "S256");
        reply
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
    let (url, csrf) = common::oauth::authorize(&http, "github").await;
    let state: HashMap<String, String> =
        serde_urlencoded::from_str(url.split_once('?').unwrap().1).unwrap();
    let query = format!(
        "code=not-a-code&state={}",
        common::urlencode(&state["state"])
    );
    let forged = common::oauth::callback(&http, "github", &query, &csrf).await;
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
