//! An application's own user model, end to end over real HTTP: integer ids on
//! SQLite and memory, UUID ids with every field type, the startup schema check, a
//! FastAPI Users database with extra columns, and the OpenAPI schemas.

mod common;

use axum::routing::get;
use axum::{Json, Router};
use common::{Http, Jwt, serve};
use reqwest::Method;
use serde_json::{Value, json};
use warden::{
    MemoryStore, SqliteStore, StoreError, User, UserStore, Warden, protected, user_model,
};

/// The example: integer ids, a required, a defaulted and an optional field.
#[user_model(id = i64)]
pub struct Member {
    #[user(read, create, update)]
    pub first_name: String,
    #[user(read, default = "free")]
    pub plan: String,
    #[user(read, create, update)]
    pub nickname: Option<String>,
}

/// UUID ids and every field type; one field never shown.
#[user_model]
pub struct Profile {
    #[user(read, create, update, default = 18)]
    pub age: i32,
    #[user(read, create, update)]
    pub score: Option<f64>,
    #[user(read, update, default = false)]
    pub newsletter: bool,
    #[user(create, default = "internal")]
    pub source: String,
    #[user(read, create)]
    pub big: Option<i64>,
}

#[protected(active)]
async fn hello(user: Member) -> Json<String> {
    Json(format!("Hello {} on {}", user.first_name, user.plan))
}

#[protected(optional)]
async fn maybe(user: Option<Member>) -> Json<Value> {
    Json(json!(user.map(|u| u.first_name)))
}

async fn member_server(store: impl UserStore<Member>) -> (Http, Warden<Member>) {
    let warden = Warden::<Member>::builder()
        .store(store)
        .backend::<Jwt>()
        .unwrap()
        .build()
        .unwrap();
    let app = Router::new()
        .route("/hello", get(hello))
        .route("/maybe", get(maybe))
        .merge(warden.routes())
        .with_state(warden.clone());
    (Http::new(serve(app).await), warden)
}

fn register(body: Value) -> (Method, &'static str, Option<&'static str>, Value) {
    (Method::POST, "/auth/register", None, body)
}

async fn member_flow(http: &Http) {
    let (method, path, token, body) = register(json!({
        "email": "ann@example.com", "password": "correct-horse", "first_name": "Ann",
        "plan": "gold", "is_superuser": true
    }));
    let reply = http.send(method, path, token, Some(&body)).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    // `plan` is not a create field: ignored, as FastAPI Users' schemas ignore it.
    assert_eq!(
        reply.json(),
        json!({"id": 1, "email": "ann@example.com", "is_active": true, "is_superuser": false,
               "is_verified": false, "first_name": "Ann", "plan": "free", "nickname": null})
    );
    let reply = http
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(
                &json!({"email": "bob@example.com", "password": "correct-horse",
                         "first_name": "Bob", "nickname": "bobby"}),
            ),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["id"], 2);
    assert_eq!(reply.json()["nickname"], "bobby");

    let token = http.login("jwt", "ann@example.com", "correct-horse").await;
    let reply = http.send(Method::GET, "/hello", Some(&token), None).await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!("Hello Ann on free"))
    );
    let reply = http.send(Method::GET, "/maybe", Some(&token), None).await;
    assert_eq!(reply.json(), json!("Ann"));
    let reply = http.send(Method::GET, "/maybe", None, None).await;
    assert_eq!((reply.status, reply.json()), (200, Value::Null));
    let reply = http.send(Method::GET, "/hello", None, None).await;
    assert_eq!(reply.status, 401);

    let reply = http
        .send(
            Method::PATCH,
            "/users/me",
            Some(&token),
            Some(&json!({"first_name": "Annie", "nickname": "A", "plan": "gold"})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let me = reply.json();
    assert_eq!(
        (&me["first_name"], &me["nickname"], &me["plan"]),
        (&json!("Annie"), &json!("A"), &json!("free"))
    );
    // `null` clears a nullable field; a non-nullable one is left as it is.
    let reply = http
        .send(
            Method::PATCH,
            "/users/me",
            Some(&token),
            Some(&json!({"nickname": null, "first_name": null})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        (&reply.json()["nickname"], &reply.json()["first_name"]),
        (&Value::Null, &json!("Annie"))
    );
    let reply = http
        .send(Method::GET, "/users/me", Some(&token), None)
        .await;
    assert_eq!(reply.json()["first_name"], "Annie");
    let reply = http
        .send(
            Method::PATCH,
            "/users/me",
            Some(&token),
            Some(&json!({"first_name": 7})),
        )
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.json()["detail"],
        json!([{"type": "string_type", "loc": ["body", "first_name"],
                "msg": "Input should be a valid string"}])
    );
}

async fn member_validation(http: &Http) {
    // Every problem at once, in FastAPI's shape.
    let reply = http
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&json!({"email": "x@example.com", "nickname": 5})),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    let locs: Vec<Value> = reply.json()["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["type"], e["loc"]]))
        .collect();
    assert_eq!(
        locs,
        [
            json!(["missing", ["body", "password"]]),
            json!(["missing", ["body", "first_name"]]),
            json!(["string_type", ["body", "nickname"]]),
        ]
    );
}

async fn member_ids(http: &Http, warden: &Warden<Member>) {
    let mut admin = warden
        .manager()
        .store()
        .get_by_email("bob@example.com")
        .await
        .unwrap()
        .unwrap();
    admin.is_superuser = true;
    warden.manager().store().update(admin).await.unwrap();
    let token = http.login("jwt", "bob@example.com", "correct-horse").await;
    let reply = http.send(Method::GET, "/users/1", Some(&token), None).await;
    assert_eq!(
        (reply.status, &reply.json()["first_name"]),
        (200, &json!("Annie"))
    );
    for bad in ["01", "+1", "1.0", "abc", "99"] {
        let reply = http
            .send(Method::GET, &format!("/users/{bad}"), Some(&token), None)
            .await;
        assert_eq!(reply.status, 404, "{bad}: {}", reply.text);
    }
    let reply = http
        .send(Method::DELETE, "/users/1", Some(&token), None)
        .await;
    assert_eq!(reply.status, 204);
    let reply = http.send(Method::GET, "/users/1", Some(&token), None).await;
    assert_eq!(reply.status, 404);
}

#[tokio::test]
async fn integer_id_model_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let (http, warden) = member_server(SqliteStore::open(&url).await.unwrap()).await;
    member_flow(&http).await;
    member_validation(&http).await;
    member_ids(&http, &warden).await;
    // The extra fields are real columns.
    let store = SqliteStore::<Member>::open(&url).await.unwrap();
    let (first_name, plan): (String, String) =
        sqlx::query_as("SELECT first_name, plan FROM \"user\" WHERE id = 2")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!((first_name.as_str(), plan.as_str()), ("Bob", "free"));
}

#[tokio::test]
async fn integer_id_model_on_postgres() {
    let Some((url, options)) = common::postgres("integer_id_model_on_postgres").await else {
        return;
    };
    let store = warden::PostgresStore::<Member>::connect_with(options.clone(), &url)
        .await
        .unwrap();
    let (http, warden) = member_server(store).await;
    member_flow(&http).await;
    member_validation(&http).await;
    member_ids(&http, &warden).await;
    let store = warden::PostgresStore::<Member>::connect_with(options, &url)
        .await
        .unwrap();
    let (first_name, plan): (String, String) =
        sqlx::query_as("SELECT first_name, plan FROM \"user\" WHERE id = 2")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!((first_name.as_str(), plan.as_str()), ("Bob", "free"));
}

#[tokio::test]
async fn uuid_model_with_every_field_type_on_postgres() {
    let Some((url, options)) =
        common::postgres("uuid_model_with_every_field_type_on_postgres").await
    else {
        return;
    };
    profile_flow(
        warden::PostgresStore::<Profile>::connect_with(options, &url)
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test]
async fn integer_id_model_in_memory() {
    let (http, warden) = member_server(MemoryStore::new()).await;
    member_flow(&http).await;
    member_validation(&http).await;
    member_ids(&http, &warden).await;
}

async fn profile_flow(store: impl UserStore<Profile>) {
    let warden = Warden::<Profile>::builder()
        .store(store)
        .backend::<Jwt>()
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(serve(warden.routes().with_state(())).await);
    let reply = http
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(
                &json!({"email": "p@example.com", "password": "correct-horse",
                         "score": 2.5, "big": 9007199254740993_i64}),
            ),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let body = reply.json();
    assert!(body["id"].as_str().unwrap().len() == 36, "{body}");
    assert_eq!(
        (
            &body["age"],
            &body["score"],
            &body["newsletter"],
            &body["big"]
        ),
        (
            &json!(18),
            &json!(2.5),
            &json!(false),
            &json!(9007199254740993_i64)
        )
    );
    assert!(body.get("source").is_none(), "not a read field: {body}");
    let stored = warden
        .manager()
        .store()
        .get_by_email("p@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.source, "internal");

    let token = http.login("jwt", "p@example.com", "correct-horse").await;
    let reply = http
        .send(
            Method::PATCH,
            "/users/me",
            Some(&token),
            Some(&json!({"age": 40, "newsletter": true, "score": null})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(
        (&body["age"], &body["newsletter"], &body["score"]),
        (&json!(40), &json!(true), &Value::Null)
    );
    for (body, kind) in [
        (json!({"age": 2.5}), "int_type"),
        (json!({"age": 3_000_000_000_i64}), "int_range"),
        (json!({"newsletter": "yes"}), "bool_type"),
        (json!({"score": "high"}), "float_type"),
    ] {
        let reply = http
            .send(Method::PATCH, "/users/me", Some(&token), Some(&body))
            .await;
        assert_eq!(reply.status, 422, "{body}");
        assert_eq!(reply.json()["detail"][0]["type"], kind, "{body}");
    }
}

#[tokio::test]
async fn uuid_model_with_every_field_type_on_sqlite() {
    profile_flow(SqliteStore::<Profile>::in_memory().await.unwrap()).await;
}

#[tokio::test]
async fn uuid_model_with_every_field_type_in_memory() {
    profile_flow(MemoryStore::<Profile>::new()).await;
}

#[tokio::test]
async fn an_existing_table_missing_the_model_columns_stops_startup_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    SqliteStore::<User>::open(&url).await.unwrap();
    let error = SqliteStore::<Member>::open(&url).await.unwrap_err();
    let StoreError::Schema(problems) = &error else {
        panic!("{error}")
    };
    let lines: Vec<&str> = problems.lines().collect();
    assert_eq!(
        lines,
        [
            "column `id` is CHAR(36) but Member declares `id = i64`: remove `id = i64` to keep UUID ids",
            "column `first_name` of Member is missing: run ALTER TABLE \"user\" ADD COLUMN \"first_name\" TEXT NOT NULL DEFAULT '';",
            "column `plan` of Member is missing: run ALTER TABLE \"user\" ADD COLUMN \"plan\" TEXT NOT NULL DEFAULT 'free';",
            "column `nickname` of Member is missing: run ALTER TABLE \"user\" ADD COLUMN \"nickname\" TEXT;",
        ]
    );
    // Running the statements it names makes the table fit a UUID model.
    let store = SqliteStore::<User>::open(&url).await.unwrap();
    for field in [
        "\"age\" INTEGER NOT NULL DEFAULT 18",
        "\"score\" REAL",
        "\"newsletter\" BOOLEAN NOT NULL DEFAULT 0",
        "\"source\" TEXT NOT NULL DEFAULT 'internal'",
        "\"big\" INTEGER",
    ] {
        sqlx::query(&format!("ALTER TABLE \"user\" ADD COLUMN {field}"))
            .execute(store.pool())
            .await
            .unwrap();
    }
    SqliteStore::<Profile>::open(&url).await.unwrap();
}

#[tokio::test]
async fn a_postgres_table_missing_the_model_columns_stops_startup_with_the_fix() {
    let Some((url, options)) =
        common::postgres("a_postgres_table_missing_the_model_columns_stops_startup_with_the_fix")
            .await
    else {
        return;
    };
    warden::PostgresStore::<User>::connect_with(options.clone(), &url)
        .await
        .unwrap();
    let error = warden::PostgresStore::<Member>::connect_with(options, &url)
        .await
        .unwrap_err();
    let StoreError::Schema(problems) = &error else {
        panic!("{error}")
    };
    let lines: Vec<&str> = problems.lines().collect();
    assert_eq!(
        lines,
        [
            "column `id` is uuid but Member declares `id = i64`: remove `id = i64` to keep UUID ids",
            "column `first_name` of Member is missing: run ALTER TABLE \"user\" ADD COLUMN \"first_name\" TEXT NOT NULL DEFAULT '';",
            "column `plan` of Member is missing: run ALTER TABLE \"user\" ADD COLUMN \"plan\" TEXT NOT NULL DEFAULT 'free';",
            "column `nickname` of Member is missing: run ALTER TABLE \"user\" ADD COLUMN \"nickname\" TEXT;",
        ]
    );
}

/// FastAPI Users' own database, to which its application added a column (as a
/// `first_name` on its SQLAlchemy model would): it opens as is, and its users log in.
#[tokio::test]
async fn a_fastapi_users_database_with_extra_columns_opens_as_is() {
    #[user_model]
    pub struct Named {
        #[user(read, create, update)]
        pub first_name: Option<String>,
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fastapi.db");
    std::fs::copy("fixtures/fastapi_users/fastapi_users.db", &path).unwrap();
    let url = format!("sqlite://{}", path.display());
    {
        let store = SqliteStore::<User>::open(&url).await.unwrap();
        sqlx::query("ALTER TABLE \"user\" ADD COLUMN first_name VARCHAR(64)")
            .execute(store.pool())
            .await
            .unwrap();
    }
    let fixtures: Value = serde_json::from_str(
        &std::fs::read_to_string("fixtures/fastapi_users/fixtures.json").unwrap(),
    )
    .unwrap();
    let user = &fixtures["users"][0];
    let warden = Warden::<Named>::builder()
        .store(SqliteStore::open(&url).await.unwrap())
        .backend::<Jwt>()
        .unwrap()
        .build()
        .unwrap();
    let http = Http::new(serve(warden.routes().with_state(())).await);
    let token = http
        .login(
            "jwt",
            user["email"].as_str().unwrap(),
            user["password"].as_str().unwrap(),
        )
        .await;
    let reply = http
        .send(
            Method::PATCH,
            "/users/me",
            Some(&token),
            Some(&json!({"first_name": "Imported"})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["first_name"], "Imported");
    assert_eq!(reply.json()["id"], user["id"]);
}

#[tokio::test]
async fn the_openapi_schemas_carry_the_model_fields() {
    let (http, _) = member_server(MemoryStore::new()).await;
    let doc = http
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .json();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["UserRead"]["properties"]["id"]["type"], "integer");
    assert_eq!(
        schemas["UserRead"]["properties"]["first_name"],
        json!({"type": "string", "title": "First Name"})
    );
    assert_eq!(
        schemas["UserRead"]["properties"]["plan"],
        json!({"type": "string", "title": "Plan", "default": "free"})
    );
    let required = schemas["UserCreate"]["required"].clone();
    assert_eq!(required, json!(["email", "password", "first_name"]));
    assert!(schemas["UserCreate"]["properties"].get("plan").is_none());
    assert!(
        schemas["UserUpdate"]["properties"]
            .get("first_name")
            .is_some()
    );
    assert!(schemas["UserUpdate"]["properties"].get("plan").is_none());
    assert_eq!(
        doc["paths"]["/users/{id}"]["get"]["parameters"][0]["schema"]["type"],
        "integer"
    );
}
