//! Sessions over real HTTP: every login opens one and its tokens name it; a logout,
//! `DELETE /users/me/sessions[/{id}]`, a password change or reset, a deactivation or
//! a deletion ends them, on every route and every instance (FastAPI Users-style
//! tokens without a session included); `GET /users/me/sessions` lists the live ones.
//!
//! Each flow runs on the memory store, a SQLite file, and two instances on one
//! PostgreSQL database (changes made through A, checked on B; needs
//! `WARDEN_TEST_POSTGRES_URL`, else "skipped").

#[macro_use]
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::served::Store;
use common::{Db, Http, Jwt, Reply, SECRET, claims, now};
use reqwest::Method;
use serde_json::{Value, json};
use warden::{TokenSettings, User, UserEvents, UserStore, Warden, async_trait, auth_backend};

const PASSWORD: &str = "correct-horse";
const NEW_PASSWORD: &str = "battery-staple";
const RESET_SECRET: &str = "a-reset-secret-of-at-least-thirty-two-bytes";

/// Tokens that never expire: their sessions have no maximum age either.
#[auth_backend(
    name = "eternal",
    lifetime = forever,
    secret = "another-test-secret-at-least-32-bytes-long"
)]
struct Eternal;

/// Keeps the reset tokens the app would e-mail.
#[derive(Default, Clone)]
struct Outbox(Arc<Mutex<Vec<String>>>);

#[async_trait]
impl UserEvents<User> for Outbox {
    async fn on_after_forgot_password(&self, _user: &User, token: &str) {
        self.0.lock().unwrap().push(token.to_owned());
    }
}

/// Two instances of one application on one database: changes go through `a`, their
/// effect is checked on `b`. With a single instance both are the same server.
struct Pair {
    a: Http,
    b: Http,
    warden: Warden,
    outbox: Outbox,
    db: Option<Db>,
}

fn warden_over(store: Arc<dyn UserStore<User>>, outbox: Outbox) -> Warden {
    Warden::builder()
        .shared_store(store)
        .backend::<Jwt>()
        .unwrap()
        .backend::<Eternal>()
        .unwrap()
        .reset_password(TokenSettings::new(RESET_SECRET))
        .events(outbox)
        .build()
        .unwrap()
}

async fn single(store: Arc<dyn UserStore<User>>, db: Option<Db>) -> Pair {
    let outbox = Outbox::default();
    let warden = warden_over(store, outbox.clone());
    let base = common::serve(common::app(&warden)).await;
    let (a, b) = (Http::new(base.clone()), Http::new(base));
    Pair {
        a,
        b,
        warden,
        outbox,
        db,
    }
}

async fn memory() -> Pair {
    let Store { store, db } = Store::memory();
    single(store, db).await
}

async fn sqlite(dir: &tempfile::TempDir) -> Pair {
    let Store { store, db } = Store::sqlite(dir, "sessions.db").await;
    single(store, db).await
}

async fn postgres(test: &str) -> Option<Pair> {
    let (url, options) = common::postgres(test).await?;
    let outbox = Outbox::default();
    let mut instances = Vec::new();
    for _ in 0..2 {
        let store = warden::PostgresStore::<User>::connect_with(options.clone(), &url)
            .await
            .unwrap();
        let warden = warden_over(Arc::new(store), outbox.clone());
        let http = Http::new(common::serve(common::app(&warden)).await);
        instances.push((http, warden));
    }
    let db = Some(Db::Postgres(
        sqlx::PgPool::connect_with(options).await.unwrap(),
    ));
    let (b, _) = instances.pop().unwrap();
    let (a, warden) = instances.pop().unwrap();
    Some(Pair {
        a,
        b,
        warden,
        outbox,
        db,
    })
}

fn sid(token: &str) -> String {
    claims(token)["sid"].as_str().unwrap().to_owned()
}

/// Unix seconds as RFC 3339 in UTC (`2026-12-02T01:29:51Z`): days to a civil date
/// as in Howard Hinnant's `civil_from_days`.
fn rfc3339(seconds: i64) -> String {
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
}

/// A FastAPI Users-style access token of `user_id`, issued now: no session, no `iat`.
fn fastapi_token(user_id: &str) -> String {
    let claims = json!({"sub": user_id, "aud": ["fastapi-users:auth"], "exp": now() + 3600});
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
}

/// A JWT signed with the backend's key, of these claims.
fn signed(claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).unwrap()
}

/// `POST path` through A with a JSON body and no token.
async fn post(p: &Pair, path: &str, body: Value) -> Reply {
    p.a.send(Method::POST, path, None, Some(&body)).await
}

/// Registers through A; the new user's id.
async fn register(p: &Pair, email: &str) -> String {
    let body = json!({"email": email, "password": PASSWORD});
    let reply = post(p, "/auth/register", body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json()["id"].as_str().unwrap().to_owned()
}

async fn send(http: &Http, method: Method, path: &str, token: &str, body: Option<Value>) -> Reply {
    http.send(method, path, Some(token), body.as_ref()).await
}

/// The token works on B at once (the login wrote its session before answering).
async fn assert_admitted(p: &Pair, token: &str) {
    let reply = send(&p.b, Method::GET, "/authenticated-route", token, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

/// The token is refused on B: at once on one instance, within 2 s on another (the
/// end travels through PostgreSQL's notification); then on every route.
async fn assert_ended(p: &Pair, token: &str, what: &str) {
    if p.a.base != p.b.base {
        common::until_seen(&format!("{what} through A, by B"), async || {
            send(&p.b, Method::GET, "/users/me", token, None)
                .await
                .status
                != 200
        })
        .await;
    }
    let reply = send(&p.b, Method::GET, "/users/me", token, None).await;
    assert_eq!(reply.status, 401, "{what}: {}", reply.text);
    assert_eq!(reply.json(), json!({"detail": "Unauthorized"}));
    for (method, path) in [
        (Method::GET, "/authenticated-route"),
        (Method::GET, "/users/me/sessions"),
        (Method::DELETE, "/users/me/sessions"),
        (Method::POST, "/auth/jwt/refresh"),
        (Method::POST, "/auth/jwt/logout"),
    ] {
        let reply = send(&p.b, method.clone(), path, token, None).await;
        assert_eq!(reply.status, 401, "{what}: {method} {path}: {}", reply.text);
    }
    let reply = send(&p.b, Method::GET, "/optional-route", token, None).await;
    assert_eq!(
        reply.json(),
        json!({"message": "Hello anonymous!"}),
        "{what}"
    );
}

async fn logout_flow(p: &Pair) {
    register(p, "ann@example.com").await;
    let first = p.a.login("jwt", "ann@example.com", PASSWORD).await;
    assert_admitted(p, &first).await;
    let other = p.a.login("jwt", "ann@example.com", PASSWORD).await;
    let reply = send(&p.b, Method::POST, "/auth/jwt/refresh", &first, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let refreshed = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(sid(&refreshed), sid(&first));
    assert_admitted(p, &first).await;
    let reply = send(&p.a, Method::POST, "/auth/jwt/logout", &refreshed, None).await;
    assert_eq!((reply.status, reply.text.as_str()), (204, ""));
    assert_ended(p, &refreshed, "a logout").await;
    assert_ended(p, &first, "a logout (token refreshed from)").await;
    assert_admitted(p, &other).await;
}

on_every_store!(logout_ends_its_login, logout_flow);

/// One login as the sessions list shows it (`last_used_at` checked and removed).
fn listed(entry: &Value, from: i64) -> Value {
    let mut entry = entry.clone();
    let last = entry.as_object_mut().unwrap().remove("last_used_at");
    let last = last.as_ref().and_then(Value::as_str).unwrap();
    assert!(
        rfc3339(from).as_str() <= last && last <= rfc3339(now()).as_str(),
        "{last}"
    );
    entry
}

async fn list_flow(p: &Pair) {
    register(p, "ann@example.com").await;
    register(p, "bob@example.com").await;
    let form = [("username", "ann@example.com"), ("password", PASSWORD)];
    let request = p.a.client.post(format!("{}/auth/jwt/login", p.a.base));
    let request = request.header("user-agent", "warden-tests/1.0").form(&form);
    let reply = Reply::read(request.send().await.unwrap()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let jwt = reply.json()["access_token"].as_str().unwrap().to_owned();
    // Login times are to the second: a second apart, the order is known.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let eternal = p.a.login("eternal", "ann@example.com", PASSWORD).await;
    let bob = p.a.login("jwt", "bob@example.com", PASSWORD).await;
    let (jwt_at, eternal_at) = (
        claims(&jwt)["auth_time"].as_i64().unwrap(),
        claims(&eternal)["auth_time"].as_i64().unwrap(),
    );
    assert!(jwt_at < eternal_at);
    let expected = |current_eternal: bool| {
        json!([
            {"id": sid(&eternal), "backend": "eternal", "created_at": rfc3339(eternal_at),
             "expires_at": null, "user_agent": null, "current": current_eternal,
             "impersonated_by": null},
            {"id": sid(&jwt), "backend": "jwt", "created_at": rfc3339(jwt_at),
             "expires_at": rfc3339(jwt_at + 604_800), "user_agent": "warden-tests/1.0",
             "current": !current_eternal, "impersonated_by": null},
        ])
    };
    for (token, current_eternal) in [(&eternal, true), (&jwt, false)] {
        let reply = send(&p.b, Method::GET, "/users/me/sessions", token, None).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let body = reply.json();
        let list = body.as_array().unwrap();
        assert_eq!(list.len(), 2, "{body}");
        let list = vec![listed(&list[0], eternal_at), listed(&list[1], jwt_at)];
        assert_eq!(Value::from(list), expected(current_eternal));
    }
    let reply = send(&p.b, Method::GET, "/users/me/sessions", &bob, None).await;
    assert_eq!(reply.json().as_array().unwrap().len(), 1, "{}", reply.text);
    assert_eq!(reply.json()[0]["id"], sid(&bob));
    // Only live sessions: the logged-out one is gone.
    let reply = send(&p.a, Method::POST, "/auth/jwt/logout", &jwt, None).await;
    assert_eq!(reply.status, 204);
    let reply = send(&p.b, Method::GET, "/users/me/sessions", &eternal, None).await;
    let body = reply.json();
    assert_eq!(body.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(listed(&body[0], eternal_at), expected(true)[0]);
}

on_every_store!(live_sessions_listed_newest_first, list_flow);

async fn end_one_flow(p: &Pair) {
    register(p, "ann@example.com").await;
    register(p, "bob@example.com").await;
    let first = p.a.login("jwt", "ann@example.com", PASSWORD).await;
    let second = p.a.login("jwt", "ann@example.com", PASSWORD).await;
    let bob = p.a.login("jwt", "bob@example.com", PASSWORD).await;
    let path = format!("/users/me/sessions/{}", sid(&first));
    let reply = send(&p.a, Method::DELETE, &path, &second, None).await;
    assert_eq!((reply.status, reply.text.as_str()), (204, ""));
    assert_ended(p, &first, "a session's end").await;
    assert_admitted(p, &second).await;
    let bobs = format!("/users/me/sessions/{}", sid(&bob));
    for path in [
        path.as_str(),
        bobs.as_str(),
        "/users/me/sessions/no-such-session",
    ] {
        let reply = send(&p.a, Method::DELETE, path, &second, None).await;
        assert_eq!(reply.status, 404, "{path}: {}", reply.text);
        assert_eq!(reply.json(), json!({"detail": "Not Found"}));
    }
    assert_admitted(p, &bob).await;
    // Its own session too.
    let path = format!("/users/me/sessions/{}", sid(&second));
    let reply = send(&p.a, Method::DELETE, &path, &second, None).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_ended(p, &second, "the current session's end").await;
}

on_every_store!(one_session_ended_by_id, end_one_flow);

async fn everywhere_flow(p: &Pair) {
    register(p, "ann@example.com").await;
    register(p, "bob@example.com").await;
    let first = p.a.login("jwt", "ann@example.com", PASSWORD).await;
    let second = p.a.login("eternal", "ann@example.com", PASSWORD).await;
    let bob = p.a.login("jwt", "bob@example.com", PASSWORD).await;
    let reply = send(&p.a, Method::DELETE, "/users/me/sessions", &first, None).await;
    assert_eq!((reply.status, reply.text.as_str()), (204, ""));
    assert_ended(p, &first, "log out everywhere").await;
    assert_ended(p, &second, "log out everywhere (other session)").await;
    assert_admitted(p, &bob).await;
    let again = p.a.login("jwt", "ann@example.com", PASSWORD).await;
    assert_admitted(p, &again).await;
    let reply = send(&p.b, Method::GET, "/users/me/sessions", &again, None).await;
    assert_eq!(reply.json().as_array().unwrap().len(), 1, "{}", reply.text);
    assert_eq!(reply.json()[0]["current"], true);
}

on_every_store!(log_out_everywhere, everywhere_flow);

async fn password_change_flow(p: &Pair) {
    let ann = register(p, "ann@example.com").await;
    register(p, "bob@example.com").await;
    let first = p.a.login("jwt", "ann@example.com", PASSWORD).await;
    let second = p.a.login("jwt", "ann@example.com", PASSWORD).await;
    let legacy = fastapi_token(&ann);
    assert_admitted(p, &legacy).await;
    let bob = p.a.login("jwt", "bob@example.com", PASSWORD).await;
    let body = json!({"password": NEW_PASSWORD});
    let reply = send(&p.a, Method::PATCH, "/users/me", &first, Some(body)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_ended(p, &first, "a password change").await;
    assert_ended(p, &second, "a password change (other session)").await;
    assert_ended(p, &legacy, "a password change (FastAPI Users token)").await;
    assert_admitted(p, &bob).await;
    let fresh = p.a.login("jwt", "ann@example.com", NEW_PASSWORD).await;
    assert_admitted(p, &fresh).await;
}

on_every_store!(password_change_ends_every_token, password_change_flow);

/// Item: a JWT whose `sid` names no session was admitted like a token without one,
/// so an end was undone by the row's loss (a purge, a restored backup).
async fn no_session_flow(p: &Pair) {
    let ann = register(p, "ann@example.com").await;
    let forged = signed(&json!({
        "sub": ann, "aud": ["fastapi-users:auth"], "iat": now(), "exp": now() + 3600,
        "sid": "no-such-session",
    }));
    assert_ended(p, &forged, "a sid of no session").await;
    let Some(db) = &p.db else { return };
    // A logged-out token whose session row is lost afterwards stays out.
    let token = p.a.login("jwt", "ann@example.com", PASSWORD).await;
    let reply = send(&p.a, Method::POST, "/auth/jwt/logout", &token, None).await;
    assert_eq!((reply.status, reply.text.as_str()), (204, ""));
    let delete = format!("DELETE FROM warden_session WHERE id = '{}'", sid(&token));
    assert_eq!(db.execute(&delete).await, 1);
    assert_ended(p, &token, "a logout whose session row was lost").await;
    // FastAPI Users' tokens (no sid) still work.
    assert_admitted(p, &fastapi_token(&ann)).await;
}

on_every_store!(a_jwt_whose_sid_names_no_session_is_refused, no_session_flow);

/// Item: a FastAPI Users token (no `iat`) of a longer lifetime than the backend's
/// was taken as issued one backend lifetime before its `exp`, after the cut-off,
/// and survived logout and a password change.
async fn undated_flow(p: &Pair) {
    let ann = register(p, "ann@example.com").await;
    // FastAPI Users issued these with a lifetime of 7 days (the backend's is 1 hour).
    let week =
        || signed(&json!({"sub": ann, "aud": ["fastapi-users:auth"], "exp": now() + 604_800}));
    let (first, second) = (week(), week());
    assert_admitted(p, &first).await;
    let reply = send(&p.a, Method::POST, "/auth/jwt/logout", &first, None).await;
    assert_eq!((reply.status, reply.text.as_str()), (204, ""));
    assert_ended(p, &first, "a logout of a week-long FastAPI Users token").await;
    assert_ended(p, &second, "a logout (its sibling)").await;

    register(p, "bob@example.com").await;
    let bob = p.a.login("jwt", "bob@example.com", PASSWORD).await;
    let bob_id = claims(&bob)["sub"].as_str().unwrap().to_owned();
    let legacy =
        signed(&json!({"sub": bob_id, "aud": ["fastapi-users:auth"], "exp": now() + 604_800}));
    assert_admitted(p, &legacy).await;
    let body = json!({"password": NEW_PASSWORD});
    let reply = send(&p.a, Method::PATCH, "/users/me", &bob, Some(body)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_ended(
        p,
        &legacy,
        "a password change (week-long FastAPI Users token)",
    )
    .await;
}

on_every_store!(
    fastapi_users_tokens_of_a_longer_lifetime_are_cut_off,
    undated_flow
);

async fn reset_flow(p: &Pair) {
    let ann = register(p, "ann@example.com").await;
    let token = p.a.login("jwt", "ann@example.com", PASSWORD).await;
    let legacy = fastapi_token(&ann);
    assert_admitted(p, &legacy).await;
    let reply = post(
        p,
        "/auth/forgot-password",
        json!({"email": "ann@example.com"}),
    )
    .await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    // The mail hook runs off the request.
    common::until_seen("the reset mail", async || {
        !p.outbox.0.lock().unwrap().is_empty()
    })
    .await;
    let reset = p.outbox.0.lock().unwrap().last().cloned().unwrap();
    let body = json!({"token": reset, "password": NEW_PASSWORD});
    let reply = post(p, "/auth/reset-password", body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_ended(p, &token, "a password reset").await;
    assert_ended(p, &legacy, "a password reset (FastAPI Users token)").await;
    let fresh = p.a.login("jwt", "ann@example.com", NEW_PASSWORD).await;
    assert_admitted(p, &fresh).await;
}

on_every_store!(password_reset_ends_every_token, reset_flow);

async fn deactivate_delete_flow(p: &Pair) {
    register(p, "root@example.com").await;
    let store = p.warden.manager().store();
    let mut root = store
        .get_by_email("root@example.com")
        .await
        .unwrap()
        .unwrap();
    root.is_superuser = true;
    store.update(root).await.unwrap();
    let admin = p.a.login("jwt", "root@example.com", PASSWORD).await;
    let ann = register(p, "ann@example.com").await;
    let token = p.a.login("jwt", "ann@example.com", PASSWORD).await;
    let legacy = fastapi_token(&ann);
    assert_admitted(p, &legacy).await;
    let path = format!("/users/{ann}");
    for (active, what) in [(false, "a deactivation"), (true, "a reactivation")] {
        let body = json!({"is_active": active});
        let reply = send(&p.a, Method::PATCH, &path, &admin, Some(body)).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.json()["is_active"], active);
        // Reactivated, the old tokens stay ended.
        assert_ended(p, &token, what).await;
        assert_ended(p, &legacy, &format!("{what} (FastAPI Users token)")).await;
    }
    let fresh = p.a.login("jwt", "ann@example.com", PASSWORD).await;
    assert_admitted(p, &fresh).await;
    let reply = send(&p.a, Method::DELETE, &path, &admin, None).await;
    assert_eq!((reply.status, reply.text.as_str()), (204, ""));
    assert_ended(p, &fresh, "a deletion").await;
    // A deleted user's tokens fail anyway: the session rows show they were ended.
    if let Some(db) = &p.db {
        let of_ann = format!("FROM warden_session WHERE user_id = '{ann}'");
        let all = db.integer(&format!("SELECT COUNT(*) {of_ann}")).await;
        let live = format!("SELECT COUNT(*) {of_ann} AND ended_at IS NULL");
        assert_eq!((all, db.integer(&live).await), (Some(2), Some(0)));
    }
    assert_admitted(p, &admin).await;
}

on_every_store!(
    deactivation_and_deletion_end_every_token,
    deactivate_delete_flow
);

/// What a PostgreSQL session feed says next, skipping what other tests on the same
/// database announce, for at most 5 s.
async fn heard(
    feed: &mut tokio::sync::mpsc::UnboundedReceiver<warden::StoreChange>,
    wanted: &warden::StoreChange,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let change = tokio::time::timeout_at(deadline, feed.recv())
            .await
            .unwrap_or_else(|_| panic!("not heard within 5 s: {wanted:?}"))
            .unwrap();
        if change == *wanted {
            return;
        }
    }
}

/// On PostgreSQL a session's end reaches the other instances' feed (the statement
/// that ends it announces it), and the feed hears its own pings: their silence is
/// what tells a LISTEN connection that died without an error, so without them such
/// a feed would keep the cache serving sessions other instances ended.
#[tokio::test]
async fn postgres_session_feed_hears_its_pings_and_other_instances_ends() {
    let test = "postgres_session_feed_hears_its_pings_and_other_instances_ends";
    let Some((url, options)) = common::postgres(test).await else {
        return;
    };
    let here = warden::PostgresStore::<User>::connect_with(options.clone(), &url)
        .await
        .unwrap();
    let there = warden::PostgresStore::<User>::connect_with(options, &url)
        .await
        .unwrap();
    let mut feed = here.sessions().unwrap().changes().unwrap();
    heard(&mut feed, &warden::StoreChange::Restored).await;
    heard(&mut feed, &warden::StoreChange::Alive).await;

    let there = there.sessions().unwrap();
    let id = uuid::Uuid::new_v4().simple().to_string();
    there
        .create(&warden::session::Session::new(
            id.as_str(),
            "u1",
            "jwt",
            now(),
            Some(now() + 3600),
        ))
        .await
        .unwrap();
    assert!(there.end(&id, now()).await.unwrap());
    heard(&mut feed, &warden::StoreChange::Session(id.clone())).await;
    // Ending it again ends nothing, and says so.
    assert!(!there.end(&id, now()).await.unwrap());
}
