//! Passkeys in headless Chromium: `examples/full`'s page `/passkeys` at
//! `http://localhost:PORT` (RP ID `localhost`), with a CDP virtual authenticator
//! (ctap2, internal, resident keys, user verification): a signed-in user registers
//! a passkey, signs out, signs in with it, reads `/users/me`, renames and deletes
//! it (`tests/browser/passkeys.mjs`). The registration sends the browser's own
//! `toJSON()` output, which the server accepts.
//!
//! Needs `/usr/bin/chromium`, `node` and `tests/browser/node_modules` (run
//! `.ci/browser-setup.sh`). Without them the test says "skipped" on stderr and
//! passes, unless `WARDEN_REQUIRE_BROWSER` is set: then it fails.

mod common;

#[allow(dead_code, unused_imports)]
#[path = "../examples/full.rs"]
mod full;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use axum::routing::get;
use warden::token::Secret;
use warden::{MemoryStore, Warden};

const CHROMIUM: &str = "/usr/bin/chromium";
const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "analytical-engine";

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
    if !browser_dir().join("node_modules/playwright-core").is_dir() {
        missing.push("tests/browser/node_modules/playwright-core (npm ci)".to_owned());
    }
    missing
}

#[tokio::test]
async fn a_passkey_registers_signs_in_and_is_managed_in_chromium() {
    let missing = missing_prerequisites();
    if !missing.is_empty() {
        let what = missing.join(", ");
        assert!(
            std::env::var_os("WARDEN_REQUIRE_BROWSER").is_none(),
            "WARDEN_REQUIRE_BROWSER is set but the browser test cannot run: missing {what}"
        );
        let _ = writeln!(
            std::io::stderr(),
            "skipped: browser_passkeys needs {what}; run .ci/browser-setup.sh"
        );
        return;
    }
    // The port first: the origin the passkeys are configured with names it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let warden: Warden = Warden::builder()
        .store(MemoryStore::new())
        .backend::<common::Jwt>()
        .unwrap()
        .passkeys(full::passkeys(
            "localhost",
            &base,
            Secret::from("a-passkey-decoy-secret-of-32-bytes!!"),
        ))
        .build()
        .unwrap();
    let app = common::app(&warden).route("/passkeys", get(full::passkeys_page));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = common::Http::new(base.clone());
    http.register(EMAIL, PASSWORD).await;

    static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = BROWSER.lock().await;
    let script = browser_dir().join("passkeys.mjs");
    let run = tokio::process::Command::new("node")
        .arg(&script)
        .arg(&base)
        .arg(EMAIL)
        .arg(PASSWORD)
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
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("passkeys.mjs: ok"), "{stdout}");
    // The browser's own toJSON() output, as the server accepted it: Level 3's shape.
    let credential = stdout
        .lines()
        .find_map(|line| line.strip_prefix("passkeys.mjs: credential "))
        .expect("the registration's credential");
    let credential: serde_json::Value = serde_json::from_str(credential).unwrap();
    assert_eq!(credential["type"], "public-key");
    assert!(credential["response"]["attestationObject"].is_string());
    assert!(credential["response"]["clientDataJSON"].is_string());
}
