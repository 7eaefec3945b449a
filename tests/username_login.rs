//! Username logins (`#[user_model(login = username)]`) end to end over real HTTP on
//! memory, SQLite and PostgreSQL: registration, case-insensitive uniqueness under
//! concurrent registrations, login, the users routes, a model with a username and
//! an e-mail, and the configuration mistakes that stop startup.

mod common;

use common::{Http, Jwt, serve};
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use warden::{
    ErrorCode, MemoryStore, SqliteStore, TokenSettings, UserCreate, UserStore, Warden, user_model,
};

/// Logs in with a username; no e-mail.
#[user_model(login = username)]
pub struct Player {
    #[user(update)]
    pub username: String,
}

/// Logs in with a username and has an e-mail too (for password resets).
#[user_model(login = username, email)]
pub struct Staff {
    pub username: String,
}

async fn player_server(store: impl UserStore<Player>) -> (Http, Warden<Player>) {
    let warden = Warden::<Player>::builder()
        .store(store)
        .backend::<Jwt>()
        .unwrap()
        .build()
        .unwrap();
    let app = warden.routes().with_state(warden.clone());
    (Http::new(serve(app).await), warden)
}

async fn register(http: &Http, body: Value) -> common::Reply {
    http.send(Method::POST, "/auth/register", None, Some(&body))
        .await
}

/// Registration, duplicates in any case, bad usernames, login in any case, and the
/// users routes, for a `login = username` model over `store`.
async fn player_flow(store: impl UserStore<Player>) {
    let (http, _warden) = player_server(store).await;
    let created = register(
        &http,
        json!({"username": "Arthur", "password": "excalibur!"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let user = created.json();
    assert_eq!(
        user.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["id", "is_active", "is_superuser", "is_verified", "username"]
    );
    assert_eq!(user["username"], "Arthur");

    let again = register(
        &http,
        json!({"username": "ARTHUR", "password": "excalibur!"}),
    )
    .await;
    assert_eq!(again.status, 400);
    assert_eq!(
        again.json(),
        json!({"detail": "REGISTER_USER_ALREADY_EXISTS"})
    );

    // A Cyrillic look-alike, a space, nothing at all, a missing field: 422 on the
    // username, as FastAPI reports a field.
    for bad in ["Аrthur", "King Arthur", ""] {
        let reply = register(&http, json!({"username": bad, "password": "excalibur!"})).await;
        assert_eq!(reply.status, 422, "{bad:?}: {}", reply.text);
        assert_eq!(
            reply.json()["detail"][0]["loc"],
            json!(["body", "username"])
        );
    }
    let missing = register(&http, json!({"password": "excalibur!"})).await;
    assert_eq!(missing.status, 422);
    assert_eq!(
        missing.json()["detail"][0]["loc"],
        json!(["body", "username"])
    );
    assert_eq!(missing.json()["detail"][0]["type"], "missing");
    // An e-mail is not part of this model: ignored, as pydantic ignores unknown keys.
    let with_email = register(
        &http,
        json!({"username": "lancelot", "email": "not an address", "password": "guinevere!"}),
    )
    .await;
    assert_eq!(with_email.status, 201, "{}", with_email.text);
    // The default password rule speaks of the username.
    let weak = register(
        &http,
        json!({"username": "merlin", "password": "xxMERLINxx"}),
    )
    .await;
    assert_eq!(weak.status, 400);
    assert_eq!(
        weak.json(),
        json!({"detail": {"code": "REGISTER_INVALID_PASSWORD", "reason": "Password should not contain username"}})
    );

    let token = http.login("jwt", "aRtHuR", "excalibur!").await;
    let bad = http
        .client
        .post(format!("{}/auth/jwt/login", http.base))
        .form(&[("username", "arthur"), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let unknown = http
        .client
        .post(format!("{}/auth/jwt/login", http.base))
        .form(&[("username", "mordred"), ("password", "excalibur!")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    assert_eq!(
        unknown.json::<Value>().await.unwrap(),
        json!({"detail": "LOGIN_BAD_CREDENTIALS"})
    );

    let me = http
        .send(Method::GET, "/users/me", Some(&token), None)
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["username"], "Arthur");
    // Renaming to a taken username (in another case) is refused; to a free one works.
    let taken = http
        .send(
            Method::PATCH,
            "/users/me",
            Some(&token),
            Some(&json!({"username": "LANCELOT"})),
        )
        .await;
    assert_eq!(taken.status, 400, "{}", taken.text);
    assert_eq!(
        taken.json(),
        json!({"detail": "UPDATE_USER_EMAIL_ALREADY_EXISTS"})
    );
    let invalid = http
        .send(
            Method::PATCH,
            "/users/me",
            Some(&token),
            Some(&json!({"username": "King Arthur"})),
        )
        .await;
    assert_eq!(invalid.status, 422);
    assert_eq!(
        invalid.json()["detail"][0]["loc"],
        json!(["body", "username"])
    );
    let renamed = http
        .send(
            Method::PATCH,
            "/users/me",
            Some(&token),
            Some(&json!({"username": "Pendragon"})),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    http.login("jwt", "pendragon", "excalibur!").await;
}

/// Twenty registrations of one username in different cases at once: exactly one
/// wins, the others get the duplicate error, none a 500.
async fn concurrent_registrations(store: impl UserStore<Player>) {
    let (http, _warden) = player_server(store).await;
    let names: Vec<String> = (0..20)
        .map(|i| {
            "galahad"
                .chars()
                .enumerate()
                .map(|(j, c)| {
                    if (i >> (j % 5)) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect()
        })
        .collect();
    let replies = join_all(
        names
            .iter()
            .map(|name| register(&http, json!({"username": name, "password": "holy-grail-1"}))),
    )
    .await;
    let statuses: Vec<u16> = replies.iter().map(|reply| reply.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        19,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn username_logins_in_memory() {
    player_flow(MemoryStore::new()).await;
    concurrent_registrations(MemoryStore::new()).await;
}

#[tokio::test]
async fn username_logins_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("players.db").display());
    player_flow(SqliteStore::open(&url).await.unwrap()).await;
    let url = format!("sqlite://{}", dir.path().join("race.db").display());
    concurrent_registrations(SqliteStore::open(&url).await.unwrap()).await;
    // The table has no e-mail column, and the username's uniqueness is an index.
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let columns: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info('user')")
        .fetch_all(&pool)
        .await
        .unwrap();
    let columns: Vec<&str> = columns.iter().map(|(c,)| c.as_str()).collect();
    assert_eq!(
        columns,
        [
            "id",
            "hashed_password",
            "is_active",
            "is_superuser",
            "is_verified",
            "username"
        ]
    );
}

#[tokio::test]
async fn username_logins_on_postgres() {
    let Some((url, options)) = common::postgres("username_logins_on_postgres").await else {
        return;
    };
    let store = warden::PostgresStore::<Player>::connect_with(options.clone(), &url)
        .await
        .unwrap();
    player_flow(store).await;
    let Some((url, options)) = common::postgres("username_logins_on_postgres").await else {
        return;
    };
    let store = warden::PostgresStore::<Player>::connect_with(options, &url)
        .await
        .unwrap();
    concurrent_registrations(store).await;
}

#[tokio::test]
async fn a_username_model_with_an_email_resets_passwords_by_email() {
    let store = MemoryStore::<Staff>::new();
    let warden = Warden::<Staff>::builder()
        .store(store)
        .backend::<Jwt>()
        .unwrap()
        .reset_password(TokenSettings::new(
            "a-reset-secret-of-at-least-thirty-two-bytes",
        ))
        .build()
        .unwrap();
    let http = Http::new(serve(warden.routes().with_state(warden.clone())).await);
    // Both are required.
    let reply = register(
        &http,
        json!({"username": "gawain", "password": "green-knight"}),
    )
    .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.json()["detail"][0]["loc"], json!(["body", "email"]));
    let reply = register(
        &http,
        json!({"username": "gawain", "email": "Gawain@Camelot.org", "password": "green-knight"}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["email"], "Gawain@camelot.org");
    // The e-mail is unique too, whatever the username.
    let reply = register(
        &http,
        json!({"username": "gawain2", "email": "gawain@camelot.org", "password": "green-knight"}),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json(),
        json!({"detail": "REGISTER_USER_ALREADY_EXISTS"})
    );
    // Login is by username, not e-mail.
    http.login("jwt", "GAWAIN", "green-knight").await;
    let by_email = http
        .client
        .post(format!("{}/auth/jwt/login", http.base))
        .form(&[
            ("username", "gawain@camelot.org"),
            ("password", "green-knight"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(by_email.status(), 400);
    // The reset token goes to the e-mail's owner.
    let forgot = http
        .send(
            Method::POST,
            "/auth/forgot-password",
            None,
            Some(&json!({"email": "gawain@camelot.org"})),
        )
        .await;
    assert_eq!(forgot.status, 202);
}

#[tokio::test]
async fn configuration_mistakes_stop_startup_with_one_line() {
    let error = Warden::<Player>::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .reset_password(TokenSettings::new(
            "a-reset-secret-of-at-least-thirty-two-bytes",
        ))
        .build()
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "Warden::builder(): Player has no e-mail to send reset or verify tokens to: remove .reset_password(...) and .verification(...), or declare #[user_model(login = username, email)]"
    );
    let path = |operation: &str, path: &str| {
        Warden::<Player>::builder()
            .store(MemoryStore::new())
            .backend::<Jwt>()
            .unwrap()
            .route_path(operation, path)
            .build()
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        path("auth:jwt.logn", "/login"),
        "Warden::builder(): route_path(\"auth:jwt.logn\", ...): no route has this operation id; the routes are auth:jwt.login, auth:jwt.logout, auth:jwt.refresh, auth:jwt.reauthenticate, auth:jwt.stop_impersonating, register:register, users:current_user, users:patch_current_user, users:sessions, users:delete_sessions, users:delete_session, users:user, users:patch_user, users:delete_user, users:list_users, users:ban_user, users:unban_user, users:impersonate"
    );
    assert_eq!(
        path("auth:jwt.login", "login"),
        "Warden::builder(): route_path(\"auth:jwt.login\", \"login\"): a path starts with `/`: write \"/login\""
    );
    assert_eq!(
        path("users:user", "/members/me"),
        "Warden::builder(): route_path(\"users:user\", \"/members/me\"): this route reads the user id from the path: put `{id}` in it"
    );
    assert_eq!(
        path("auth:jwt.login", "/docs"),
        "Warden::builder(): route_path(\"auth:jwt.login\", \"/docs\"): the API documentation is served there: choose another path, or turn the docs off with .docs(false)"
    );
}

#[tokio::test]
async fn seeded_users_keep_their_flags_and_skip_the_password_rule() {
    let (http, warden) = player_server(MemoryStore::new()).await;
    let admin = warden
        .manager()
        .seed(
            UserCreate::new(
                "short",
                PlayerCreate {
                    username: "root".into(),
                },
            )
            .superuser(),
        )
        .await
        .unwrap();
    assert!(admin.is_superuser && admin.is_verified && admin.is_active);
    let token = http.login("jwt", "root", "short").await;
    let users = http
        .send(
            Method::GET,
            &format!("/users/{}", admin.id),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(users.status, 200);
    assert_eq!(users.json()["username"], "root");
}

#[tokio::test]
async fn error_texts_are_the_applications_in_answers_and_docs() {
    let warden = Warden::<Player>::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .error_text(ErrorCode::RegisterUserAlreadyExists, "That name is taken")
        .error_text(ErrorCode::RegisterInvalidPassword, "Weak password")
        .route_path("register:register", "/signup")
        .build()
        .unwrap();
    let http = Http::new(serve(warden.routes().with_state(warden.clone())).await);
    let signup = |body: Value| {
        let http = &http;
        async move { http.send(Method::POST, "/signup", None, Some(&body)).await }
    };
    assert_eq!(
        signup(json!({"username": "kay", "password": "seneschal"}))
            .await
            .status,
        201
    );
    let taken = signup(json!({"username": "KAY", "password": "seneschal"})).await;
    assert_eq!(taken.json(), json!({"detail": "That name is taken"}));
    let weak = signup(json!({"username": "bors", "password": "short"})).await;
    assert_eq!(
        weak.json(),
        json!({"detail": {"code": "Weak password", "reason": "Password should be at least 8 characters"}})
    );
    let old = http
        .send(Method::POST, "/auth/register", None, Some(&json!({})))
        .await;
    assert_eq!(old.status, 404);
    let doc = http
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .json();
    let examples = &doc["paths"]["/signup"]["post"]["responses"]["400"]["content"]["application/json"]
        ["examples"];
    assert_eq!(
        examples["REGISTER_USER_ALREADY_EXISTS"]["value"],
        json!({"detail": "That name is taken"})
    );
    assert_eq!(
        examples["REGISTER_INVALID_PASSWORD"]["value"]["detail"]["code"],
        "Weak password"
    );
    assert!(doc["paths"].get("/auth/register").is_none());
    // The model's schemas: a username, no e-mail.
    let schemas = &doc["components"]["schemas"];
    let read: Vec<&String> = schemas["UserRead"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        read,
        ["id", "is_active", "is_superuser", "is_verified", "username"]
    );
    assert_eq!(
        schemas["UserCreate"]["required"],
        json!(["password", "username"])
    );
    assert!(schemas["UserUpdate"]["properties"].get("email").is_none());
    assert!(
        schemas["UserUpdate"]["properties"]
            .get("username")
            .is_some()
    );
}
