//! PostgreSQL: the store contract, several application instances on one database
//! that agree at once (one account per e-mail under concurrency, a deactivation made
//! through one refused by the other), migrations raced by instances starting
//! together, and a database that goes away and comes back.
//!
//! Needs `WARDEN_TEST_POSTGRES_URL` (`bash .ci/run` starts a server); without it each
//! test says "skipped".

mod common;

use std::time::{Duration, Instant};

use common::{Http, Jwt, serve};
use futures::future::join_all;
use reqwest::Method;
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use warden::{PostgresStore, User, Warden};

async fn instance(url: &str, options: &PgConnectOptions) -> (Http, Warden) {
    let store = PostgresStore::<User>::connect_with(options.clone(), url)
        .await
        .unwrap();
    let warden: Warden = Warden::builder()
        .store(store)
        .backend::<Jwt>()
        .unwrap()
        .build()
        .unwrap();
    let app = common::app(&warden);
    (Http::new(serve(app).await), warden)
}

fn register_body(email: &str) -> serde_json::Value {
    json!({"email": email, "password": "correct-horse"})
}

#[tokio::test]
async fn the_store_keeps_the_contract() {
    let Some((url, options)) = common::postgres("the_store_keeps_the_contract").await else {
        return;
    };
    let store = PostgresStore::<User>::connect_with(options, &url)
        .await
        .unwrap();
    warden_runtime::store::contract::check(&store, |_| ()).await;
}

/// Concurrent uses of one TOTP step, recovery code, pending secret and sign-in
/// challenge, from two stores (two instances' pools) on one database: one wins each,
/// and a challenge's tries stop at the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_factor_races_have_one_winner_across_instances() {
    let Some((url, options)) =
        common::postgres("two_factor_races_have_one_winner_across_instances").await
    else {
        return;
    };
    let a = PostgresStore::<User>::connect_with(options.clone(), &url)
        .await
        .unwrap();
    let b = PostgresStore::<User>::connect_with(options, &url)
        .await
        .unwrap();
    warden_runtime::store::contract::two_factor_races(
        warden::UserStore::two_factor(&a).unwrap(),
        "racer",
    )
    .await;
    // A step accepted through one instance is refused through the other.
    let (a, b) = (
        warden::UserStore::two_factor(&a).unwrap(),
        warden::UserStore::two_factor(&b).unwrap(),
    );
    a.set_pending("ann", "sealed").await.unwrap();
    assert!(!b.confirm("ann", "stale", 1, 100, &[]).await.unwrap());
    assert!(
        b.confirm("ann", "sealed", 1, 100, &["code".into()])
            .await
            .unwrap()
    );
    assert!(a.advance_step("ann", 2).await.unwrap());
    assert!(!b.advance_step("ann", 2).await.unwrap());
    assert!(b.use_recovery_code("ann", "code").await.unwrap());
    assert!(!a.use_recovery_code("ann", "code").await.unwrap());
}

#[tokio::test]
async fn instances_starting_together_migrate_once() {
    let Some((url, options)) = common::postgres("instances_starting_together_migrate_once").await
    else {
        return;
    };
    let stores =
        join_all((0..4).map(|_| PostgresStore::<User>::connect_with(options.clone(), &url))).await;
    for store in stores {
        store.unwrap();
    }
}

#[tokio::test]
async fn two_instances_on_one_database_agree() {
    let Some((url, options)) = common::postgres("two_instances_on_one_database_agree").await else {
        return;
    };
    let (a, warden_a) = instance(&url, &options).await;
    let (b, _) = instance(&url, &options).await;

    // 50 registrations of one e-mail spread over both: one 201, the rest 400, no 5xx.
    let race = register_body("Race@example.com");
    let replies = join_all((0..50).map(|i| {
        let http = if i % 2 == 0 { &a } else { &b };
        http.send(Method::POST, "/auth/register", None, Some(&race))
    }))
    .await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1);
    for reply in &replies {
        assert!(reply.status == 201 || reply.status == 400, "{}", reply.text);
    }

    // One user's whole flow, each request to the other instance.
    let reply = a
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&register_body("ann@example.com")),
        )
        .await;
    assert_eq!(reply.status, 201);
    let token = b.login("jwt", "ann@example.com", "correct-horse").await;
    let reply = a.send(Method::GET, "/users/me", Some(&token), None).await;
    assert_eq!(reply.json()["email"], "ann@example.com");
    let reply = b
        .send(
            Method::PATCH,
            "/users/me",
            Some(&token),
            Some(&json!({"email": "anne@example.com"})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // A had Ann cached: B's change reaches it through PostgreSQL's notification, a few
    // milliseconds later (the bound is 100 ms; this allows 2 s).
    common::until_seen("an update through B, by A", async || {
        let reply = a.send(Method::GET, "/users/me", Some(&token), None).await;
        reply.json()["email"] == "anne@example.com"
    })
    .await;
    let reply = b
        .send(Method::POST, "/auth/jwt/refresh", Some(&token), None)
        .await;
    assert_eq!(reply.status, 200);
    let fresh = reply.json()["access_token"].as_str().unwrap().to_owned();
    let reply = a
        .send(Method::POST, "/auth/jwt/logout", Some(&fresh), None)
        .await;
    assert_eq!(reply.status, 204);
    // The logout through A ended the whole login, the token refreshed from included:
    // B hears of it through PostgreSQL's notification.
    common::until_seen("a logout through A, by B", async || {
        b.send(Method::GET, "/users/me", Some(&token), None)
            .await
            .status
            == 401
    })
    .await;
    let token = b.login("jwt", "anne@example.com", "correct-horse").await;

    // B serves Ann from its cache; a superuser deactivates her through A.
    let reply = b
        .send(Method::GET, "/authenticated-route", Some(&token), None)
        .await;
    assert_eq!(reply.status, 200);
    let reply = a
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&register_body("root@example.com")),
        )
        .await;
    assert_eq!(reply.status, 201);
    let root = warden_a
        .manager()
        .store()
        .get_by_email("root@example.com")
        .await
        .unwrap()
        .unwrap();
    let mut promoted = root.clone();
    promoted.is_superuser = true;
    warden_a.manager().store().update(promoted).await.unwrap();
    let admin = a.login("jwt", "root@example.com", "correct-horse").await;
    let ann = warden_a
        .manager()
        .store()
        .get_by_email("anne@example.com")
        .await
        .unwrap()
        .unwrap();
    let reply = a
        .send(
            Method::PATCH,
            &format!("/users/{}", ann.id),
            Some(&admin),
            Some(&json!({"is_active": false})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    common::until_seen("a deactivation through A, by B", async || {
        b.send(Method::GET, "/authenticated-route", Some(&token), None)
            .await
            .status
            == 401
    })
    .await;
}

/// The database goes away (the role may no longer log in, its connections are cut):
/// requests that need it answer 503, never hang past the pool's timeout nor panic;
/// service resumes by itself when it is back.
#[tokio::test]
async fn a_database_that_goes_away_gives_503_then_recovers() {
    let Some((url, options)) =
        common::postgres("a_database_that_goes_away_gives_503_then_recovers").await
    else {
        return;
    };
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    let role = format!("r_{}", uuid::Uuid::new_v4().simple());
    let schema = options.get_options().unwrap_or_default().to_owned();
    let schema = schema
        .split("search_path=")
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    for statement in [
        format!("CREATE ROLE {role} LOGIN"),
        format!("GRANT ALL ON SCHEMA {schema} TO {role}"),
        format!("GRANT CREATE ON DATABASE postgres TO {role}"),
    ] {
        sqlx::query(&statement).execute(&admin).await.unwrap();
    }
    let options = options.username(&role);
    let (http, _) = instance(&url, &options).await;
    let reply = http
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&register_body("o@example.com")),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let token = http.login("jwt", "o@example.com", "correct-horse").await;

    sqlx::query(&format!("ALTER ROLE {role} NOLOGIN"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1")
        .bind(&role)
        .execute(&admin)
        .await
        .unwrap();
    let started = Instant::now();
    let mut saw_503 = false;
    while started.elapsed() < Duration::from_secs(10) {
        let reply = http
            .send(Method::GET, "/users/me", Some(&token), None)
            .await;
        assert!(
            reply.status == 200 || reply.status == 503,
            "{} {}",
            reply.status,
            reply.text
        );
        if reply.status == 503 {
            assert_eq!(reply.json(), json!({"detail": "Service Unavailable"}));
            saw_503 = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(saw_503, "requests kept succeeding without the database");
    let reply = http
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&register_body("p@example.com")),
        )
        .await;
    assert_eq!(reply.status, 503);

    sqlx::query(&format!("ALTER ROLE {role} LOGIN"))
        .execute(&admin)
        .await
        .unwrap();
    let back = Instant::now();
    loop {
        let reply = http
            .send(Method::GET, "/users/me", Some(&token), None)
            .await;
        if reply.status == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "no recovery: {}",
            reply.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let reply = http
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&register_body("p@example.com")),
        )
        .await;
    assert_eq!(reply.status, 201);
}
