//! Security events reach the application's sink off the request, in order, with
//! what happened to whose account; a sink that never returns slows no request; the
//! development mailer turns the account notices into messages.

mod common;

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use warden::runtime::audit::{SecurityEvent, SecuritySink};
use warden::{DevMailer, MemoryStore, Warden, async_trait};

use common::events::Collect;
use common::{Http, Jwt};

const PASSWORD: &str = "correct-horse-battery";

/// A sink that never finishes its first event.
struct Stuck;

#[async_trait]
impl SecuritySink for Stuck {
    async fn record(&self, _at: i64, _event: &SecurityEvent) {
        std::future::pending::<()>().await;
    }
}

async fn server(sink: impl SecuritySink) -> Http {
    let warden: Warden = Warden::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .security_events(sink)
        .build()
        .unwrap();
    Http::new(common::serve(common::app(&warden)).await)
}

fn names(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|event| event["event"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn what_happens_to_an_account_reaches_the_sink_in_order() {
    let sink = Collect::default();
    let http = server(sink.clone()).await;
    let id = http.register("ada@example.com", PASSWORD).await;
    // A wrong password names no user; a right one signs in.
    let refused = http
        .client
        .post(format!("{}/auth/jwt/login", http.base))
        .header("user-agent", "probe/1.0")
        .form(&[("username", "ada@example.com"), ("password", "wrong-one")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let token = http.login("jwt", "ada@example.com", PASSWORD).await;
    let patched = http
        .send(
            Method::PATCH,
            "/users/me",
            Some(&token),
            Some(&json!({"email": "lovelace@example.com", "password": "another-good-one"})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let token = http
        .login("jwt", "lovelace@example.com", "another-good-one")
        .await;
    let out = http
        .send(Method::POST, "/auth/jwt/logout", Some(&token), None)
        .await;
    assert_eq!(out.status, 204);

    let events = sink.first(7).await;
    assert_eq!(
        names(&events),
        [
            "sign_in_refused",
            "sign_in",
            "password_changed",
            "email_changed",
            "sessions_ended",
            "sign_in",
            "logout"
        ]
    );
    assert_eq!(
        events[0],
        json!({
            "event": "sign_in_refused",
            "user_id": null,
            "backend": "jwt",
            "reason": "bad_credentials",
            "client": {"address": null, "user_agent": "probe/1.0"}
        })
    );
    assert_eq!(events[1]["user_id"], id);
    assert_eq!(events[1]["kind"], "start");
    assert_eq!(events[1]["amr"], json!(["pwd"]));
    assert_eq!(
        events[2],
        json!({"event": "password_changed", "user_id": id, "email": "lovelace@example.com"})
    );
    assert_eq!(
        events[3],
        json!({"event": "email_changed", "user_id": id, "from": "ada@example.com", "to": "lovelace@example.com"})
    );
    assert_eq!(events[4]["reason"], "password_changed");
    // No event carries a password or a token.
    let all = serde_json::to_string(&events).unwrap();
    assert!(!all.contains(PASSWORD) && !all.contains("another-good-one"));
    assert!(!all.contains(&token));
}

#[tokio::test]
async fn a_sink_that_never_returns_slows_no_request() {
    let http = server(Stuck).await;
    http.register("ada@example.com", PASSWORD).await;
    // Far more events than the first one the sink is stuck on: every request still
    // answers (the test's own timeout is the only clock here).
    for _ in 0..20 {
        let token = http.login("jwt", "ada@example.com", PASSWORD).await;
        assert_eq!(http.me(&token).await.status, 200);
    }
}

#[tokio::test]
async fn the_development_mailer_writes_the_account_notices() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox.jsonl");
    let http = server(DevMailer::new(&outbox)).await;
    let id = http.register("ada@example.com", PASSWORD).await;
    let token = http.login("jwt", "ada@example.com", PASSWORD).await;
    http.change_password(&token, "another-good-one").await;
    let mut lines = Vec::new();
    for _ in 0..400 {
        lines = std::fs::read_to_string(&outbox)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).unwrap())
            .collect();
        if !lines.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        lines,
        [json!({"event": "password_changed", "user_id": id, "email": "ada@example.com"})]
    );
}
