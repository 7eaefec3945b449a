//! FastAPI Users' database and Redis strategies, declared with
//! `#[auth_backend(strategy = "database" | "redis")]`: opaque tokens, FastAPI Users'
//! storage layouts (so tokens written by either side work on the other), logout that
//! deletes them, and the sessions every token belongs to.

mod common;

use std::sync::Arc;

use common::{Http, Reply, serve};
use reqwest::Method;
use serde_json::json;
use warden::{DatabaseStore, User, UserStore, Warden, auth_backend};

#[auth_backend(name = "db", lifetime = 3600, strategy = "database")]
struct Db;

#[auth_backend(
    name = "redis",
    lifetime = 3600,
    strategy = "redis",
    redis_url = env("WARDEN_TEST_REDIS_URL")
)]
struct Redis;

/// A Redis backend whose server is not there.
#[auth_backend(
    name = "gone",
    lifetime = 3600,
    strategy = "redis",
    redis_url = "redis://127.0.0.1:1/0"
)]
struct Gone;

const PASSWORD: &str = "opaque-password-1";

/// Registers with the test password; the new user's id.
async fn register(http: &Http, email: &str) -> String {
    http.register(email, PASSWORD).await
}

fn assert_unauthorized(reply: &Reply) {
    assert_eq!(reply.status, 401, "{}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "Unauthorized"}));
}

/// A token as FastAPI Users' `secrets.token_urlsafe()` makes them.
fn fastapi_users_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = std::array::from_fn(|_| rand_byte());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn rand_byte() -> u8 {
    uuid::Uuid::new_v4().as_bytes()[0]
}

/// The database strategy's whole life on one store: `sql` runs a statement on its
/// database and `created` reads a token's `created_at` as text (`None`: no row).
/// Returns the first token's `created_at`.
async fn database_flow<F, G>(store: DatabaseStore, sql: F, created: G) -> String
where
    F: AsyncFn(&str),
    G: AsyncFn(&str) -> Option<String>,
{
    let rows = async |token: &str| i64::from(created(token).await.is_some());
    let warden: Warden = Warden::builder()
        .store(store)
        .backend::<Db>()
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(serve(common::app(&warden)).await);
    let id = register(&http, "dora@example.com").await;

    let reply = Reply::read(
        http.client
            .post(format!("{}/auth/db/login", http.base))
            .form(&[("username", "dora@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["token_type"], "bearer");
    let token = body["access_token"].as_str().unwrap().to_owned();
    // `secrets.token_urlsafe()`'s shape: 43 base64url characters.
    assert_eq!(token.len(), 43);
    let first_created = created(&token).await.expect("a row for the token");
    let me = http.me(&token).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json()["id"], id.as_str());

    // Its session is listed with the backend's name.
    let sessions = http
        .send(Method::GET, "/users/me/sessions", Some(&token), None)
        .await;
    assert_eq!(sessions.status, 200, "{}", sessions.text);
    assert_eq!(sessions.json()[0]["backend"], "db");
    assert_eq!(sessions.json()[0]["current"], true);

    // Logout deletes the row.
    let reply = http
        .send(Method::POST, "/auth/db/logout", Some(&token), None)
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(rows(&token).await, 0);
    assert_unauthorized(&http.me(&token).await);

    // A token FastAPI Users wrote into the same table works here, until its
    // lifetime has passed since `created_at`.
    let migrated = fastapi_users_token();
    sql(&format!(
        "INSERT INTO accesstoken (token, created_at, user_id) VALUES ('{migrated}', {}, '{id}')",
        "CURRENT_TIMESTAMP"
    ))
    .await;
    let me = http.me(&migrated).await;
    assert_eq!(me.status, 200, "{}", me.text);
    sql(&format!(
        "UPDATE accesstoken SET created_at = '2020-01-01 00:00:00.000000' WHERE token = '{migrated}'"
    ))
    .await;
    assert_unauthorized(&http.me(&migrated).await);

    // A password change ends the user's database tokens too, migrated ones included.
    let token = http.login("db", "dora@example.com", PASSWORD).await;
    let older = fastapi_users_token();
    sql(&format!(
        "INSERT INTO accesstoken (token, created_at, user_id) VALUES ('{older}', CURRENT_TIMESTAMP, '{id}')"
    ))
    .await;
    assert_eq!(http.me(&older).await.status, 200);
    // The cut-off is to the second: a token of this very second counts as before.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    http.change_password(&token, "a-new-password-2").await;
    assert_unauthorized(&http.me(&token).await);
    assert_unauthorized(&http.me(&older).await);
    let fresh = http
        .login("db", "dora@example.com", "a-new-password-2")
        .await;
    assert_eq!(http.me(&fresh).await.status, 200);

    // Garbage is a 401, never a lookup error.
    for bad in [
        "",
        "x",
        "not a token",
        &"a".repeat(4000),
        "'; DROP TABLE accesstoken; --",
    ] {
        assert_unauthorized(&http.me(bad).await);
    }

    // Deleting the user deletes its tokens (FastAPI Users' `ON DELETE CASCADE`).
    let user = warden
        .manager()
        .store()
        .get_by_email("dora@example.com")
        .await
        .unwrap()
        .unwrap();
    warden.manager().delete(&user).await.unwrap();
    assert_eq!(rows(&fresh).await, 0);
    assert_unauthorized(&http.me(&fresh).await);
    first_created
}

#[tokio::test]
async fn database_strategy_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.db").display());
    let store = DatabaseStore::open(&url).await.unwrap();
    let DatabaseStore::Sqlite(sqlite) = &store else {
        unreachable!()
    };
    let pool = sqlite.pool().clone();
    let run = async |statement: &str| {
        sqlx::query(statement).execute(&pool).await.unwrap();
    };
    let created = async |token: &str| -> Option<String> {
        sqlx::query_as::<_, (String,)>("SELECT created_at FROM accesstoken WHERE token = ?")
            .bind(token)
            .fetch_optional(&pool)
            .await
            .unwrap()
            .map(|(created,)| created)
    };
    // SQLAlchemy's layout: UTC as text, with microseconds.
    let first = database_flow(store.clone(), run, created).await;
    let shape: String = first
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    assert_eq!(shape, "9999-99-99 99:99:99.999999", "{first}");
}

#[tokio::test]
async fn database_strategy_on_postgres() {
    let Some((url, options)) = common::postgres("database_strategy_on_postgres").await else {
        return;
    };
    let store = warden::PostgresStore::connect_with(options.clone(), &url)
        .await
        .unwrap();
    let pool = store.pool().clone();
    let run = async |statement: &str| {
        sqlx::query(statement).execute(&pool).await.unwrap();
    };
    let created = async |token: &str| -> Option<String> {
        sqlx::query_as::<_, (String,)>("SELECT created_at::text FROM accesstoken WHERE token = $1")
            .bind(token)
            .fetch_optional(&pool)
            .await
            .unwrap()
            .map(|(created,)| created)
    };
    database_flow(DatabaseStore::Postgres(store), run, created).await;
}

#[tokio::test]
async fn redis_strategy_reads_and_writes_fastapi_users_keys() {
    let Some(url) = common::redis("redis_strategy_reads_and_writes_fastapi_users_keys") else {
        return;
    };
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let warden: Warden = Warden::builder()
        .store(warden::MemoryStore::new())
        .backend::<Redis>()
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(serve(common::app(&warden)).await);
    let id = register(&http, "rhea@example.com").await;

    let token = http.login("redis", "rhea@example.com", PASSWORD).await;
    assert_eq!(token.len(), 43);
    let key = format!("fastapi_users_token:{token}");
    let stored: Option<String> = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(stored.as_deref(), Some(id.as_str()));
    let ttl: i64 = redis::cmd("TTL")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!((3590..=3600).contains(&ttl), "{ttl}");
    assert_eq!(http.me(&token).await.status, 200);

    // Logout deletes the key.
    let reply = http
        .send(Method::POST, "/auth/redis/logout", Some(&token), None)
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let exists: i64 = redis::cmd("EXISTS")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(exists, 0);
    assert_unauthorized(&http.me(&token).await);

    // A key FastAPI Users set works here; once it expires, the token is over.
    let migrated = fastapi_users_token();
    let key = format!("fastapi_users_token:{migrated}");
    let () = redis::cmd("SET")
        .arg(&key)
        .arg(&id)
        .arg("EX")
        .arg(3600)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(http.me(&migrated).await.status, 200);
    let () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_unauthorized(&http.me(&migrated).await);

    // A password change ends the user's Redis tokens (their sessions end).
    let token = http.login("redis", "rhea@example.com", PASSWORD).await;
    http.change_password(&token, "a-new-password-2").await;
    assert_unauthorized(&http.me(&token).await);
}

/// A refresh of a Redis token (FastAPI Users' recipe) continues its login: logging
/// out the new token ends the old one, and neither refreshes after. The login is
/// kept under a key of warden's own; FastAPI Users' key keeps its value.
#[tokio::test]
async fn logging_out_a_refreshed_redis_token_ends_the_token_it_was_refreshed_from() {
    let Some(url) =
        common::redis("logging_out_a_refreshed_redis_token_ends_the_token_it_was_refreshed_from")
    else {
        return;
    };
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let warden: Warden = Warden::builder()
        .store(warden::MemoryStore::new())
        .backend::<Redis>()
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(serve(common::app(&warden)).await);
    let id = register(&http, "remy@example.com").await;
    let first = http.login("redis", "remy@example.com", PASSWORD).await;
    let reply = http
        .send(Method::POST, "/auth/redis/refresh", Some(&first), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let second = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        reply.json(),
        json!({"access_token": second, "token_type": "bearer"})
    );
    for token in [&first, &second] {
        assert_eq!(http.me(token).await.status, 200);
        let stored: Option<String> = redis::cmd("GET")
            .arg(format!("fastapi_users_token:{token}"))
            .query_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(stored.as_deref(), Some(id.as_str()));
    }

    let reply = http
        .send(Method::POST, "/auth/redis/logout", Some(&second), None)
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    for token in [&first, &second] {
        assert_unauthorized(&http.me(token).await);
        let reply = http
            .send(Method::POST, "/auth/redis/refresh", Some(token), None)
            .await;
        assert_unauthorized(&reply);
    }

    // A key FastAPI Users set (no login recorded) works, and its refresh's login
    // adopts it: logging out the refreshed token ends it too.
    let migrated = fastapi_users_token();
    let () = redis::cmd("SET")
        .arg(format!("fastapi_users_token:{migrated}"))
        .arg(&id)
        .arg("EX")
        .arg(3600)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(http.me(&migrated).await.status, 200);
    let reply = http
        .send(Method::POST, "/auth/redis/refresh", Some(&migrated), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let refreshed = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(http.me(&migrated).await.status, 200);
    let reply = http
        .send(Method::POST, "/auth/redis/logout", Some(&refreshed), None)
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_unauthorized(&http.me(&refreshed).await);
    assert_unauthorized(&http.me(&migrated).await);
}

#[tokio::test]
async fn an_unreachable_redis_is_a_503_never_a_500() {
    let warden: Warden = Warden::builder()
        .store(warden::MemoryStore::new())
        .backend::<Gone>()
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(serve(common::app(&warden)).await);
    register(&http, "gina@example.com").await;
    let reply = Reply::read(
        http.client
            .post(format!("{}/auth/gone/login", http.base))
            .form(&[("username", "gina@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 503, "{}", reply.text);
    let reply = http
        .send(Method::GET, "/users/me", Some(&fastapi_users_token()), None)
        .await;
    assert_eq!(reply.status, 503, "{}", reply.text);
}

#[tokio::test]
async fn a_database_backend_needs_a_store_with_its_table() {
    /// A store of the application's own, without an `accesstoken` table.
    struct Bare(warden::MemoryStore);
    #[warden::async_trait]
    impl UserStore for Bare {
        async fn get(&self, id: &uuid::Uuid) -> Result<Option<User>, warden::StoreError> {
            self.0.get(id).await
        }
        async fn get_by_email(&self, email: &str) -> Result<Option<User>, warden::StoreError> {
            self.0.get_by_email(email).await
        }
        async fn get_by_login(&self, login: &str) -> Result<Option<User>, warden::StoreError> {
            self.0.get_by_login(login).await
        }
        async fn create(&self, user: User) -> Result<User, warden::StoreError> {
            self.0.create(user).await
        }
        async fn update(&self, user: User) -> Result<User, warden::StoreError> {
            self.0.update(user).await
        }
        async fn replace(&self, expected: &User, new: User) -> Result<User, warden::StoreError> {
            self.0.replace(expected, new).await
        }
        async fn delete(&self, id: &uuid::Uuid) -> Result<(), warden::StoreError> {
            self.0.delete(id).await
        }
    }
    let error = Warden::<User>::builder()
        .shared_store(Arc::new(Bare(warden::MemoryStore::new())))
        .backend::<Db>()
        .unwrap()
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "backend `db`: option `strategy`: \"database\" keeps tokens in the user store's database, and this store has none: use SqliteStore, PostgresStore or DatabaseStore"
    );
}
