//! The admin routes (issue 21, part 4) through real HTTP on a manual clock: bans
//! (every session ended, each way in refused at the sign-in step,
//! `LOGIN_USER_BANNED` with the end only after the right password, expiry, unban,
//! a superuser never banned), the user list (pages, cursors, filters, bounds),
//! and the operator rule (superuser, fresh sign-in, second factor when
//! configured).
//!
//! The store-dependent flows run on the memory store, a SQLite file and
//! PostgreSQL (needs `WARDEN_TEST_POSTGRES_URL`, else "skipped").

#[macro_use]
mod common;

use common::served::{App, Store};
use common::{Http, Reply};
use reqwest::Method;
use serde_json::{Value, json};
use warden::{User, Warden, WardenBuilder, auth_backend};

const PASSWORD: &str = "correct-horse-battery";
const ADMIN: &str = "root@example.com";

/// Bearer tokens of 15 minutes with rotating refresh tokens.
#[auth_backend(
    name = "jwt",
    lifetime = 900,
    secret = "admin-test-secret-of-at-least-32-bytes!",
    refresh = 86400,
    max_session_age = 604800
)]
struct Jwt;

/// The warden `configure` makes over `store`, with the superuser [`ADMIN`], served
/// with `routes` beside the demo routes.
async fn admin_over(
    store: Store,
    configure: impl FnOnce(WardenBuilder) -> WardenBuilder,
    routes: impl FnOnce(&Warden) -> axum::Router,
) -> App {
    let app = App::over_with(store, configure, routes).await;
    app.warden
        .manager()
        .ensure_superuser(ADMIN, PASSWORD.into())
        .await
        .unwrap();
    app
}

/// The [`Jwt`] backend, the superuser, and the `/payout` route.
async fn app_over(store: Store) -> App {
    admin_over(
        store,
        |builder| builder.backend::<Jwt>().unwrap(),
        |warden| {
            axum::Router::new()
                .route("/payout", axum::routing::post(payout))
                .with_state(warden.clone())
        },
    )
    .await
}

async fn memory() -> App {
    app_over(Store::memory()).await
}

async fn sqlite(dir: &tempfile::TempDir) -> App {
    app_over(Store::sqlite(dir, "admin.db").await).await
}

async fn postgres(test: &str) -> Option<App> {
    Some(app_over(Store::postgres(test).await?).await)
}

impl App {
    /// A password login's raw reply.
    async fn login_reply(&self, email: &str, password: &str) -> Reply {
        Reply::read(
            self.http
                .client
                .post(format!("{}/auth/jwt/login", self.http.base))
                .form(&[("username", email), ("password", password)])
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A password login: the access and refresh tokens.
    async fn login(&self, email: &str) -> (String, String) {
        let reply = self.login_reply(email, PASSWORD).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let body = reply.json();
        (
            body["access_token"].as_str().unwrap().to_owned(),
            body["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    async fn refresh_grant(&self, refresh: &str) -> Reply {
        Reply::read(
            self.http
                .client
                .post(format!("{}/auth/jwt/refresh", self.http.base))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn ban(&self, token: &str, id: &str, body: Value) -> Reply {
        self.http
            .send(
                Method::POST,
                &format!("/users/{id}/ban"),
                Some(token),
                Some(&body),
            )
            .await
    }

    async fn unban(&self, token: &str, id: &str) -> Reply {
        self.http
            .send(
                Method::POST,
                &format!("/users/{id}/unban"),
                Some(token),
                None,
            )
            .await
    }

    async fn list(&self, token: &str, query: &str) -> Reply {
        self.http
            .send(Method::GET, &format!("/users{query}"), Some(token), None)
            .await
    }

    fn rfc3339(&self, at: i64) -> String {
        time::OffsetDateTime::from_unix_timestamp(at)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    }
}

async fn ban_flow(app: &App) {
    let ann = app.http.register("ann@example.com", PASSWORD).await;
    let (ann_token, ann_refresh) = app.login("ann@example.com").await;
    let (admin, admin_refresh) = app.login(ADMIN).await;
    let admin_id = app.http.me(&admin).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Only a superuser bans; nobody without a token.
    let until = app.clock.now() + 3600;
    let body = json!({"reason": "spam", "until": app.rfc3339(until)});
    let refused = app.ban(&ann_token, &admin_id, body.clone()).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(refused.json(), json!({"detail": "Forbidden"}));
    let anonymous = app
        .http
        .send(
            Method::POST,
            &format!("/users/{ann}/ban"),
            None,
            Some(&body),
        )
        .await;
    assert_eq!(anonymous.status, 401);

    // Malformed: an end in the past, not a time, a reason too long; nobody.
    for (bad, field) in [
        (json!({"until": app.rfc3339(app.clock.now() - 1)}), "until"),
        (json!({"until": "tomorrow"}), "until"),
        (json!({"reason": "x".repeat(501)}), "reason"),
        (json!({"reason": 7}), "reason"),
    ] {
        let reply = app.ban(&admin, &ann, bad.clone()).await;
        assert_eq!(reply.status, 422, "{bad}: {}", reply.text);
        assert_eq!(reply.json()["detail"][0]["loc"], json!(["body", field]));
    }
    let nobody = app
        .ban(&admin, "00000000-0000-4000-8000-000000000000", json!({}))
        .await;
    assert_eq!(nobody.status, 404, "{}", nobody.text);
    assert_eq!(app.ban(&admin, "not-an-id", json!({})).await.status, 404);

    // A superuser is never banned, themselves included.
    let superuser = app.ban(&admin, &admin_id, json!({})).await;
    assert_eq!(superuser.status, 400, "{}", superuser.text);
    assert_eq!(superuser.json(), json!({"detail": "BAN_SUPERUSER"}));

    // The ban.
    let banned = app.ban(&admin, &ann, body).await;
    assert_eq!(banned.status, 200, "{}", banned.text);
    assert_eq!(
        banned.json(),
        json!({
            "user_id": ann,
            "reason": "spam",
            "created_at": app.rfc3339(app.clock.now()),
            "until": app.rfc3339(until),
            "banned_by": admin_id,
        })
    );
    if let Some(db) = &app.db {
        assert_eq!(
            db.strings("SELECT user_id FROM warden_ban").await,
            std::slice::from_ref(&ann)
        );
    }

    // Every session ended: the access token, its refresh token, an access-token
    // refresh.
    common::assert_token_refused(&app.http.me(&ann_token).await);
    let refresh = app.refresh_grant(&ann_refresh).await;
    assert_eq!(refresh.status, 400, "{}", refresh.text);
    assert_eq!(refresh.json()["error"], "invalid_grant");
    let by_access = app
        .http
        .send(Method::POST, "/auth/jwt/refresh", Some(&ann_token), None)
        .await;
    assert_eq!(by_access.status, 401, "{}", by_access.text);

    // A wrong password learns nothing; the right one learns the ban and its end.
    let wrong = app.login_reply("ann@example.com", "not-the-password").await;
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.json(), json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
    let right = app.login_reply("ann@example.com", PASSWORD).await;
    assert_eq!(right.status, 400, "{}", right.text);
    assert_eq!(
        right.json(),
        json!({"detail": {"code": "LOGIN_USER_BANNED", "until": app.rfc3339(until)}})
    );

    // The ban ends by itself on the clock.
    app.clock.advance(3599);
    assert_eq!(
        app.login_reply("ann@example.com", PASSWORD).await.status,
        400
    );
    app.clock.advance(1);
    let (ann_token, _) = app.login("ann@example.com").await;
    assert_eq!(app.http.me(&ann_token).await.status, 200);

    // The admin's sign-in is now an hour old: a refresh keeps its time, and the
    // admin routes want a fresh one.
    let refreshed = app.refresh_grant(&admin_refresh).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let admin = refreshed.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let stale = app.ban(&admin, &ann, json!({})).await;
    assert_eq!(stale.status, 401, "{}", stale.text);
    assert_eq!(stale.json(), json!({"detail": "REAUTHENTICATION_REQUIRED"}));
    assert!(
        stale
            .header("www-authenticate")
            .is_some_and(|h| h.contains("max_age=900")),
        "{:?}",
        stale.header("www-authenticate")
    );
    let (admin, _) = app.login(ADMIN).await;

    // A ban until lifted: `until` null.
    let forever = app.ban(&admin, &ann, json!({"until": null})).await;
    assert_eq!(forever.status, 200, "{}", forever.text);
    assert_eq!(forever.json()["until"], Value::Null);
    assert_eq!(forever.json()["reason"], Value::Null);
    common::assert_token_refused(&app.http.me(&ann_token).await);
    app.clock.advance(365 * 86_400);
    let (admin, _) = app.login(ADMIN).await;
    assert_eq!(
        app.login_reply("ann@example.com", PASSWORD).await.json(),
        json!({"detail": {"code": "LOGIN_USER_BANNED", "until": null}})
    );
    let user = app.warden.manager().get(&ann.parse().unwrap()).await;
    let user = user.unwrap().unwrap();
    assert!(app.warden.manager().banned(&user).await.unwrap().is_some());

    // Unban: signing in works again; an unban of nobody banned is the same 204.
    let lifted = app.unban(&admin, &ann).await;
    assert_eq!(lifted.status, 204, "{}", lifted.text);
    assert_eq!(app.unban(&admin, &ann).await.status, 204);
    assert_eq!(
        app.unban(&admin, "00000000-0000-4000-8000-000000000000")
            .await
            .status,
        404
    );
    app.login("ann@example.com").await;
    if let Some(db) = &app.db {
        assert_eq!(db.integer("SELECT COUNT(*) FROM warden_ban").await, Some(0));
    }
}

on_every_store!(
    a_ban_ends_sessions_and_refuses_sign_in_until_it_ends,
    ban_flow
);

async fn list_flow(app: &App) {
    let mut ids = Vec::new();
    for name in ["ann", "bob", "cy", "dee", "Zed_1", "zed%2"] {
        ids.push(
            app.http
                .register(&format!("{name}@example.com"), PASSWORD)
                .await,
        );
    }
    let (admin, _) = app.login(ADMIN).await;
    let (ann, _) = app.login("ann@example.com").await;
    assert_eq!(app.list(&ann, "").await.status, 403);
    let anonymous = app.http.send(Method::GET, "/users", None, None).await;
    assert_eq!(anonymous.status, 401);

    // Everyone, in one stable order, page by page.
    let all = app.list(&admin, "").await;
    assert_eq!(all.status, 200, "{}", all.text);
    let everyone: Vec<String> = all.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(everyone.len(), 7);
    assert_eq!(all.json()["next_cursor"], Value::Null);
    let first = &all.json()["items"][0];
    assert!(first.get("hashed_password").is_none(), "UserRead only");
    let mut walked = Vec::new();
    let mut query = "?limit=3".to_owned();
    loop {
        let page = app.list(&admin, &query).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let body = page.json();
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        walked.extend(items.iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(walked, everyone);

    // Filters: an e-mail prefix in any case, `_` and `%` as themselves, flags.
    let emails = |reply: &Reply| {
        let mut emails: Vec<String> = reply.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_ascii_lowercase())
            .collect();
        emails.sort();
        emails
    };
    assert_eq!(
        emails(&app.list(&admin, "?email=ZED").await),
        ["zed%2@example.com", "zed_1@example.com"]
    );
    assert_eq!(
        emails(&app.list(&admin, "?email=zed_").await),
        ["zed_1@example.com"]
    );
    assert_eq!(
        emails(&app.list(&admin, "?email=zed%25").await),
        ["zed%2@example.com"]
    );
    app.http.set_flags_as(&admin, &ids[1], false).await;
    assert_eq!(
        emails(&app.list(&admin, "?is_active=false").await),
        ["bob@example.com"]
    );
    assert_eq!(
        emails(&app.list(&admin, "?is_superuser=true").await),
        [ADMIN]
    );
    assert_eq!(
        app.list(&admin, "?is_verified=true&is_superuser=false")
            .await
            .json()["items"],
        json!([])
    );

    // Bounds and malformed parameters: 422 naming the parameter.
    for (query, name) in [
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?limit=ten", "limit"),
        ("?is_active=maybe", "is_active"),
        ("?cursor=not-a-cursor", "cursor"),
    ] {
        let reply = app.list(&admin, query).await;
        assert_eq!(reply.status, 422, "{query}: {}", reply.text);
        assert_eq!(reply.json()["detail"][0]["loc"], json!(["query", name]));
    }
    assert_eq!(app.list(&admin, "?limit=100").await.status, 200);
}

on_every_store!(
    the_user_list_pages_in_a_stable_order_with_filters,
    list_flow
);

/// Deactivates a user through FastAPI Users' `PATCH /users/{id}`.
trait SetFlags {
    async fn set_flags_as(&self, admin: &str, id: &str, active: bool);
}

impl SetFlags for Http {
    async fn set_flags_as(&self, admin: &str, id: &str, active: bool) {
        let reply = self
            .send(
                Method::PATCH,
                &format!("/users/{id}"),
                Some(admin),
                Some(&json!({"is_active": active})),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
}

/// With two-factor authentication configured, an admin route wants a session that
/// passed a second factor: a password alone gets RFC 9470's step-up challenge.
#[tokio::test]
async fn with_two_factor_configured_admin_routes_want_a_second_factor() {
    use warden::second_factor::TwoFactor;
    let app = admin_over(
        Store::memory(),
        |builder| {
            builder.backend::<Jwt>().unwrap().two_factor(
                TwoFactor::totp("Admin test").secret("another-secret-of-at-least-32-bytes!"),
            )
        },
        |_| axum::Router::new(),
    )
    .await;
    let http = &app.http;
    let admin = http.login("jwt", ADMIN, PASSWORD).await;
    let reply = http.send(Method::GET, "/users", Some(&admin), None).await;
    assert_eq!(reply.status, 401, "{}", reply.text);
    assert!(
        reply.header("www-authenticate").is_some_and(|h| h
            .contains("insufficient_user_authentication")
            && h.contains("acr_values")),
        "{:?}",
        reply.header("www-authenticate")
    );
    // FastAPI Users' own superuser routes keep their rule.
    let id = http.me(&admin).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let own = http
        .send(Method::GET, &format!("/users/{id}"), Some(&admin), None)
        .await;
    assert_eq!(own.status, 200, "{}", own.text);
}

/// A route with a step-up rule, which no impersonation passes.
#[warden::protected(active, fresh = 300)]
async fn payout(user: User) -> axum::Json<Value> {
    axum::Json(json!({ "payout": user.email }))
}

async fn impersonation_flow(app: &App) {
    let ann = app.http.register("ann@example.com", PASSWORD).await;
    let (admin, _) = app.login(ADMIN).await;
    let admin_id = app.http.me(&admin).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let impersonate = |id: String, token: String| async move {
        app.http
            .send(
                Method::POST,
                &format!("/users/{id}/impersonate"),
                Some(&token),
                None,
            )
            .await
    };

    // Never another superuser (nor oneself); only a superuser impersonates.
    let superuser = impersonate(admin_id.clone(), admin.clone()).await;
    assert_eq!(superuser.status, 400, "{}", superuser.text);
    assert_eq!(superuser.json(), json!({"detail": "IMPERSONATE_SUPERUSER"}));
    let (ann_own, _) = app.login("ann@example.com").await;
    assert_eq!(impersonate(ann.clone(), ann_own.clone()).await.status, 403);

    // The tokens: the user's, with `act` naming the admin, no refresh token.
    let started = impersonate(ann.clone(), admin.clone()).await;
    assert_eq!(started.status, 200, "{}", started.text);
    assert!(
        started.json().get("refresh_token").is_none(),
        "{}",
        started.text
    );
    let token = started.json()["access_token"].as_str().unwrap().to_owned();
    let claims = common::claims(&token);
    assert_eq!(claims["sub"], ann);
    assert_eq!(claims["act"], json!({"sub": admin_id}));
    assert_eq!(app.http.me(&token).await.json()["email"], "ann@example.com");

    // Listed among the user's sessions as such, ending within the hour.
    let sessions = app
        .http
        .send(Method::GET, "/users/me/sessions", Some(&ann_own), None)
        .await
        .json();
    let listed: Vec<&Value> = sessions
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["impersonated_by"] == json!(admin_id))
        .collect();
    assert_eq!(listed.len(), 1, "{sessions}");
    assert_eq!(
        listed[0]["expires_at"],
        json!(app.rfc3339(app.clock.now() + 3600))
    );

    // Never credentials, never a step-up, never the admin routes.
    let password = app
        .http
        .send(
            Method::PATCH,
            "/users/me",
            Some(&token),
            Some(&json!({"password": "a-new-password-1"})),
        )
        .await;
    assert_eq!(password.status, 403, "{}", password.text);
    assert_eq!(
        password.json(),
        json!({"detail": "IMPERSONATION_FORBIDDEN"})
    );
    let email = app
        .http
        .send(
            Method::PATCH,
            "/users/me",
            Some(&token),
            Some(&json!({"email": "mallory@example.com"})),
        )
        .await;
    assert_eq!(email.status, 403, "{}", email.text);
    let nothing = app
        .http
        .send(Method::PATCH, "/users/me", Some(&token), Some(&json!({})))
        .await;
    assert_eq!(nothing.status, 200, "{}", nothing.text);
    let fresh = app
        .http
        .send(Method::POST, "/payout", Some(&token), None)
        .await;
    assert_eq!(fresh.status, 403, "{}", fresh.text);
    assert_eq!(fresh.json(), json!({"detail": "IMPERSONATION_FORBIDDEN"}));
    let reauth = Reply::read(
        app.http
            .client
            .post(format!("{}/auth/jwt/reauthenticate", app.http.base))
            .bearer_auth(&token)
            .form(&[("password", PASSWORD)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reauth.status, 403, "{}", reauth.text);
    assert_eq!(app.list(&token, "").await.status, 403);
    // The user's own session passes the step-up: the rule is the session's.
    assert_eq!(
        app.http
            .send(Method::POST, "/payout", Some(&ann_own), None)
            .await
            .status,
        200
    );

    // A refresh continues it with its `act`, never past the hour.
    let refreshed = app
        .http
        .send(Method::POST, "/auth/jwt/refresh", Some(&token), None)
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let again = refreshed.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(common::claims(&again)["act"], json!({"sub": admin_id}));
    app.clock.advance(3600);
    common::assert_token_refused(&app.http.me(&again).await);

    // Stopping ends it; the admin's own session is no impersonation.
    let (admin, _) = app.login(ADMIN).await;
    let started = impersonate(ann.clone(), admin.clone()).await;
    let token = started.json()["access_token"].as_str().unwrap().to_owned();
    let not = app
        .http
        .send(
            Method::POST,
            "/auth/jwt/stop-impersonating",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(not.status, 400, "{}", not.text);
    assert_eq!(not.json(), json!({"detail": "NOT_IMPERSONATING"}));
    let stopped = app
        .http
        .send(
            Method::POST,
            "/auth/jwt/stop-impersonating",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(stopped.status, 204, "{}", stopped.text);
    common::assert_token_refused(&app.http.me(&token).await);
    assert_eq!(app.http.me(&admin).await.status, 200);
    if let Some(db) = &app.db {
        assert_eq!(
            db.strings("SELECT actor FROM warden_session WHERE actor IS NOT NULL")
                .await,
            [admin_id.clone(), admin_id]
        );
    }
}

on_every_store!(
    impersonation_carries_act_and_never_changes_credentials,
    impersonation_flow
);

/// On the cookie transport the admin's own token waits in `<cookie>_admin` and
/// comes back when the impersonation stops.
#[tokio::test]
async fn stopping_an_impersonation_restores_the_admins_cookie() {
    #[auth_backend(
        name = "cookie",
        lifetime = 3600,
        secret = "cookie-secret-that-is-at-least-32-bytes-long",
        transport = cookie
    )]
    struct CookieBackend;
    let app = admin_over(
        Store::memory(),
        |builder| builder.backend::<CookieBackend>().unwrap(),
        |_| axum::Router::new(),
    )
    .await;
    let http = &app.http;
    let ann = http.register("ann@example.com", PASSWORD).await;
    let cookie_of = |reply: &reqwest::Response, name: &str| {
        reply
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap().to_owned())
    };
    let login = http
        .client
        .post(format!("{}/auth/cookie/login", http.base))
        .form(&[("username", ADMIN), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 204);
    let admin = cookie_of(&login, "fastapiusersauth").unwrap();
    let started = http
        .client
        .post(format!("{}/users/{ann}/impersonate", http.base))
        .header("cookie", &admin)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 204);
    let acting = cookie_of(&started, "fastapiusersauth").unwrap();
    let aside = cookie_of(&started, "fastapiusersauth_admin").unwrap();
    assert_eq!(
        aside.split_once('=').unwrap().1,
        admin.split_once('=').unwrap().1
    );
    let header = started
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("fastapiusersauth_admin="))
        .unwrap()
        .to_owned();
    assert!(header.contains("HttpOnly"), "{header}");
    let me = |cookies: String| {
        let http = &http;
        async move {
            http.client
                .get(format!("{}/users/me", http.base))
                .header("cookie", cookies)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()["email"]
                .clone()
        }
    };
    assert_eq!(me(acting.clone()).await, "ann@example.com");
    let stopped = http
        .client
        .post(format!("{}/auth/cookie/stop-impersonating", http.base))
        .header("cookie", format!("{acting}; {aside}"))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.status(), 204);
    let restored = cookie_of(&stopped, "fastapiusersauth").unwrap();
    assert_eq!(restored, admin);
    let cleared = stopped
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("fastapiusersauth_admin="))
        .unwrap()
        .to_owned();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(me(restored).await, ADMIN);
}
