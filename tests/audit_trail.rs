//! The audit trail (`WardenBuilder::audit_trail`) through real HTTP on the memory,
//! SQLite and PostgreSQL stores, on a manual clock: a user's sign-ins and changes
//! appear in `GET /users/me/security-events` newest first with the client's user
//! agent (those the user manager emits too) and never another user's; a superuser reads anyone's at
//! `GET /users/{id}/security-events` (403 for others, 404 for an unknown id); the
//! purge deletes events older than the retention only; the application's own sink
//! still receives every event; without the trail the routes are not served.

#[macro_use]
mod common;

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use warden::runtime::audit::AuditTrail;
use warden::{Clock, MemoryStore, User, UserStore, Warden};

use common::events::Collect;
use common::served::Store;
use common::{Http, Jwt, Reply};

const PASSWORD: &str = "correct-horse-battery";
const AGENT: &str = "AuditProbe/2.0";
/// Thirty days.
const RETENTION: u64 = 30 * 24 * 3600;

struct App {
    http: Http,
    warden: Warden,
    clock: Clock,
    events: Collect,
}

fn warden_over(store: Arc<dyn UserStore<User>>, clock: &Clock, events: &Collect) -> Warden {
    Warden::builder()
        .clock(clock.clone())
        .shared_store(store)
        .backend::<Jwt>()
        .unwrap()
        .security_events(events.clone())
        .audit_trail(AuditTrail::keep_for(Duration::from_secs(RETENTION)))
        .build()
        .unwrap()
}

async fn app_over(store: Arc<dyn UserStore<User>>) -> App {
    let clock = Clock::manual(common::now());
    let events = Collect::default();
    let warden = warden_over(store, &clock, &events);
    let http = Http::new(common::serve(common::app(&warden)).await);
    App {
        http,
        warden,
        clock,
        events,
    }
}

async fn memory() -> App {
    app_over(Store::memory().store).await
}

async fn sqlite(dir: &tempfile::TempDir) -> App {
    app_over(Store::sqlite(dir, "audit.db").await.store).await
}

async fn postgres(test: &str) -> Option<App> {
    Some(app_over(Store::postgres(test).await?.store).await)
}

impl App {
    /// Logs in with the probe's user agent; the access token.
    async fn login(&self, email: &str, password: &str) -> String {
        let reply = Reply::read(
            self.http
                .client
                .post(format!("{}/auth/jwt/login", self.http.base))
                .header("user-agent", AGENT)
                .form(&[("username", email), ("password", password)])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()["access_token"].as_str().unwrap().to_owned()
    }

    async fn get(&self, path: &str, token: &str) -> Reply {
        self.http.send(Method::GET, path, Some(token), None).await
    }

    /// `path`'s events once there are `n` (delivery is off the request: it waits at
    /// most 2 s for them to be stored).
    async fn events(&self, path: &str, token: &str, n: usize) -> Vec<Value> {
        for _ in 0..400 {
            let reply = self.get(path, token).await;
            assert_eq!(reply.status, 200, "{}", reply.text);
            let events = reply.json().as_array().unwrap().clone();
            if events.len() >= n {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("{path}: fewer than {n} events");
    }

    async fn make_superuser(&self, email: &str) {
        let store = self.warden.manager().store();
        let mut user = store.get_by_email(email).await.unwrap().unwrap();
        user.is_superuser = true;
        store.update(user).await.unwrap();
    }
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

async fn own_events_flow(app: &App) {
    let ada = app.http.register("ada@example.com", PASSWORD).await;
    let bob = app.http.register("bob@example.com", PASSWORD).await;
    let token = app.login("ada@example.com", PASSWORD).await;
    app.clock.advance(60);
    // The change is emitted by the user manager, which knows no request: the
    // route's client is kept beside it.
    let changed = app
        .http
        .client
        .patch(format!("{}/users/me", app.http.base))
        .bearer_auth(&token)
        .header("user-agent", AGENT)
        .json(&serde_json::json!({"password": "another-good-one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    app.clock.advance(60);
    let token = app.login("ada@example.com", "another-good-one").await;
    let bob_token = app.login("bob@example.com", PASSWORD).await;

    // Ada's: newest first, the sign-ins with the client's user agent.
    let events = app.events("/users/me/security-events", &token, 4).await;
    assert_eq!(
        kinds(&events),
        ["sign_in", "sessions_ended", "password_changed", "sign_in"]
    );
    for event in &events {
        assert_eq!(event["user_agent"], AGENT, "{event}");
    }
    let mut keys: Vec<_> = events[0].as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["at", "client_address", "id", "kind", "user_agent"]);
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    assert!(events[0]["at"].as_str().unwrap() > events[3]["at"].as_str().unwrap());
    // Never a secret, and never another user's event.
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(PASSWORD) && !text.contains("another-good-one"));
    assert!(!text.contains(&token) && !text.contains(&bob));
    let bobs = app.events("/users/me/security-events", &bob_token, 1).await;
    assert_eq!(kinds(&bobs), ["sign_in"]);

    // Pages: `limit` cuts, `before` continues after the last id seen.
    let first = app
        .get("/users/me/security-events?limit=2", &token)
        .await
        .json();
    assert_eq!(first.as_array().unwrap()[..], events[..2]);
    let next = app
        .get(
            &format!("/users/me/security-events?limit=2&before={}", ids[1]),
            &token,
        )
        .await
        .json();
    assert_eq!(next.as_array().unwrap()[..], events[2..]);
    for bad in ["limit=0", "limit=1000", "before=yesterday"] {
        let reply = app
            .get(&format!("/users/me/security-events?{bad}"), &token)
            .await;
        assert_eq!(reply.status, 422, "{bad}: {}", reply.text);
        assert_eq!(reply.json()["detail"][0]["loc"][0], "query");
    }
    let anonymous = app
        .http
        .send(Method::GET, "/users/me/security-events", None, None)
        .await;
    assert_eq!(anonymous.status, 401);

    // The application's sink received every event, those naming no user too.
    let sunk = app.events.first(5).await;
    let names: Vec<_> = sunk.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "sign_in",
            "password_changed",
            "sessions_ended",
            "sign_in",
            "sign_in"
        ]
    );
    let _ = ada;
}

async fn superuser_flow(app: &App) {
    let ada = app.http.register("ada@example.com", PASSWORD).await;
    app.http.register("root@example.com", PASSWORD).await;
    app.make_superuser("root@example.com").await;
    let ada_token = app.login("ada@example.com", PASSWORD).await;
    let root = app.login("root@example.com", PASSWORD).await;

    let path = format!("/users/{ada}/security-events");
    let events = app.events(&path, &root, 1).await;
    assert_eq!(kinds(&events), ["sign_in"]);
    assert_eq!(events[0]["user_agent"], AGENT);
    // The same as Ada's own list.
    assert_eq!(
        app.events("/users/me/security-events", &ada_token, 1).await,
        events
    );
    // A user who is not a superuser: 403, even for their own id.
    let refused = app.get(&path, &ada_token).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    // An unknown or malformed id: 404.
    for id in ["00000000-0000-4000-8000-000000000000", "not-an-id"] {
        let missing = app
            .get(&format!("/users/{id}/security-events"), &root)
            .await;
        assert_eq!(missing.status, 404, "{id}: {}", missing.text);
        assert_eq!(missing.json(), serde_json::json!({"detail": "Not Found"}));
    }
    let anonymous = app.http.send(Method::GET, &path, None, None).await;
    assert_eq!(anonymous.status, 401);
}

async fn purge_flow(app: &App) {
    app.http.register("ada@example.com", PASSWORD).await;
    let old = app.login("ada@example.com", PASSWORD).await;
    app.events("/users/me/security-events", &old, 1).await;
    // Twenty-nine days later, a second sign-in.
    app.clock.advance(RETENTION as i64 - 24 * 3600);
    let token = app.login("ada@example.com", PASSWORD).await;
    app.events("/users/me/security-events", &token, 2).await;
    // Just before the first event's age reaches the retention: both kept.
    app.clock.advance(24 * 3600 - 1);
    app.warden.purge_expired().await.unwrap();
    let token = app.login("ada@example.com", PASSWORD).await;
    let events = app.events("/users/me/security-events", &token, 3).await;
    assert_eq!(events.len(), 3);
    // One more second: the first sign-in is older than the retention, and goes.
    app.clock.advance(2);
    app.warden.purge_expired().await.unwrap();
    let events = app.get("/users/me/security-events", &token).await.json();
    let events = events.as_array().unwrap();
    assert_eq!(kinds(events), ["sign_in", "sign_in"]);
}

on_every_store!(own_events, own_events_flow);
on_every_store!(superuser, superuser_flow);
on_every_store!(purge, purge_flow);

/// Without the trail, the routes are not served.
#[tokio::test]
async fn without_the_trail_the_routes_are_absent() {
    let warden: Warden = Warden::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(common::serve(common::app(&warden)).await);
    let id = http.register("ada@example.com", PASSWORD).await;
    let token = http.login("jwt", "ada@example.com", PASSWORD).await;
    for path in [
        "/users/me/security-events".to_owned(),
        format!("/users/{id}/security-events"),
    ] {
        let reply = http.send(Method::GET, &path, Some(&token), None).await;
        assert!(
            reply.status == 404 || reply.status == 405,
            "{path}: {}",
            reply.status
        );
    }
    let document = http
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .json();
    assert!(document["paths"].get("/users/me/security-events").is_none());
}

/// With it, both routes and their schema are in the document.
#[tokio::test]
async fn the_document_lists_the_routes() {
    let app = memory().await;
    let document = app
        .http
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .json();
    let mine = &document["paths"]["/users/me/security-events"]["get"];
    assert_eq!(
        mine["operationId"],
        "users_security_events_users_me_security_events_get"
    );
    let params: Vec<_> = mine["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["limit", "before"]);
    assert!(document["paths"]["/users/{id}/security-events"]["get"].is_object());
    assert!(document["components"]["schemas"]["SecurityEventRead"].is_object());
}
