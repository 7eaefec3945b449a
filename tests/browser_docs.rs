//! The Swagger UI at `/docs`, clicked through in headless Chromium: authorize with the
//! OAuth2 password flow against the real login route, then try `GET /users/me`.
//!
//! Needs `/usr/bin/chromium`, `node` and `tests/browser/node_modules` (run
//! `.ci/browser-setup.sh`). Without them the test says "skipped" on stderr and passes,
//! unless `WARDEN_REQUIRE_BROWSER` is set: then it fails and says what is missing.

mod common;

#[path = "../examples/tutorial.rs"]
mod tutorial;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use warden::{MemoryStore, SqliteStore, Warden, auth_backend};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A cookie backend beside the bearer one, so that the Authorize dialog offers both
/// schemes, as in FastAPI Users' full example.
#[auth_backend(
    name = "cookie",
    lifetime = 3600,
    secret = "test-secret-that-is-at-least-32-bytes-long",
    transport = cookie(secure = false)
)]
struct Cookie;
const EMAIL: &str = "king.arthur@camelot.bt";
const PASSWORD: &str = "guinevere-rules";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// What is missing to run the browser, if anything.
fn missing_prerequisites() -> Vec<String> {
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        missing.push(format!("{CHROMIUM} (Debian's chromium package)"));
    }
    let node = std::process::Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !node.is_ok_and(|status| status.success()) {
        missing.push("node on PATH".to_owned());
    }
    let playwright = browser_dir().join("node_modules/playwright-core");
    if !playwright.is_dir() {
        missing.push(format!("{} (npm ci)", playwright.display()));
    }
    missing
}

/// Runs `docs.mjs` against the app at `base`, logging in as `login` with `password`; `None` when
/// the browser is missing and not required (the test then says "skipped").
async fn click_through(base: &str, login: &str, password: &str) -> Option<()> {
    let missing = missing_prerequisites();
    if !missing.is_empty() {
        let what = missing.join(", ");
        if std::env::var_os("WARDEN_REQUIRE_BROWSER").is_some() {
            panic!(
                "WARDEN_REQUIRE_BROWSER is set but the browser test cannot run: missing {what}; \
                 run .ci/browser-setup.sh"
            );
        }
        // Straight to stderr, past the test harness's capture, so the skip shows.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: browser_docs needs {what}; run .ci/browser-setup.sh \
             (set WARDEN_REQUIRE_BROWSER=1 to make this a failure)"
        );
        return None;
    }
    // One Chromium at a time: two on two cores make each slow enough to time out.
    static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = BROWSER.lock().await;
    let script = browser_dir().join("docs.mjs");
    let run = tokio::process::Command::new("node")
        .arg(&script)
        .arg(base)
        .arg(login)
        .arg(password)
        .current_dir(browser_dir())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .expect("the browser test took more than 180 s")
        .expect("node could not be started");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "node {} exited with {}:\n{stdout}{stderr}",
        script.display(),
        output.status
    );
    assert!(stdout.contains("docs.mjs: ok"), "{stdout}");
    Some(())
}

#[tokio::test]
async fn swagger_ui_authorizes_with_the_password_flow_and_gets_users_me() {
    let warden: Warden = Warden::builder()
        .store(MemoryStore::new())
        .backend::<common::Jwt>()
        .unwrap()
        .backend::<Cookie>()
        .unwrap()
        .build()
        .unwrap();
    // `Warden::routes()` serves /openapi.json and /docs beside the auth routes.
    let app = common::app(&warden);
    let server = common::Server {
        base: common::serve(app).await,
        client: reqwest::Client::new(),
        warden,
    };
    let (status, body) = server.register(EMAIL, PASSWORD).await;
    assert_eq!(status, 201, "{body}");
    click_through(&server.base, EMAIL, PASSWORD).await;
}

/// The tutorial's promise: Authorize in its `/docs` logs in at `POST /login`
/// (`tokenUrl="login"`) with a username, and `GET /users/me` then answers its name.
#[tokio::test]
async fn the_tutorials_docs_authorize_at_post_login_with_a_username() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tutorial.db").display());
    let app = tutorial::app(SqliteStore::open(&url).await.unwrap())
        .await
        .unwrap();
    let base = common::serve(app).await;
    click_through(&base, "admin", "secret").await;
}
