//! Abuse resistance over real HTTP: a login flood meets a bounded hash queue.

mod common;

use common::{Http, Jwt, serve};
use futures::future::join_all;
use reqwest::Method;
use serde_json::json;
use warden::{MemoryStore, PasswordHasher, PasswordHasherConfig, User, Warden};

/// Beyond the hasher's slots and queue, logins are refused at once with 503 and
/// `Retry-After` instead of waiting behind the flood; the queue drains and logins
/// work again; guarded routes never wait for the hasher.
#[tokio::test]
async fn a_full_hash_queue_answers_503_with_retry_after() {
    let hasher = PasswordHasher::with_config(PasswordHasherConfig {
        max_concurrent: 1,
        max_waiting: 2,
        ..Default::default()
    })
    .unwrap();
    let warden = Warden::<User>::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .password_hasher(hasher)
        .build()
        .unwrap();
    let http = Http::new(serve(warden.routes().with_state(warden)).await);
    let reply = http
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&json!({"email": "lot@camelot.org", "password": "orkney-king"})),
        )
        .await;
    assert_eq!(reply.status, 201);
    let token = http.login("jwt", "lot@camelot.org", "orkney-king").await;

    let flood = join_all((0..24).map(|_| {
        http.client
            .post(format!("{}/auth/jwt/login", http.base))
            .form(&[
                ("username", "lot@camelot.org"),
                ("password", "wrong-password"),
            ])
            .send()
    }));
    let me = http.send(Method::GET, "/users/me", Some(&token), None);
    let (replies, me) = tokio::join!(flood, me);
    assert_eq!(me.status, 200, "guarded routes do not wait for the hasher");
    let mut refused = 0;
    let mut busy = 0;
    for reply in replies {
        let reply = common::Reply::read(reply.unwrap()).await;
        match reply.status {
            400 => refused += 1,
            503 => {
                busy += 1;
                assert_eq!(reply.header("retry-after"), Some("1"));
                assert_eq!(reply.json(), json!({"detail": "Service Unavailable"}));
            }
            other => panic!("unexpected {other}: {}", reply.text),
        }
    }
    assert!(
        refused >= 3,
        "one running and two waiting are served: {refused}"
    );
    assert!(busy >= 1, "the rest are refused: {busy}");
    assert_eq!(refused + busy, 24);
    // Drained: a login works again.
    http.login("jwt", "lot@camelot.org", "orkney-king").await;
}
