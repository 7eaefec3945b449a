//! Roles (issue 21, part 3) through real HTTP: `#[derive(Roles)]`, a
//! `#[user(roles)]` field, `role =` and `any_role(...)` guards, roles given only by
//! a superuser's `PATCH /users/{id}` (a user's own update, registration and API
//! keys never give one), the list's `role=` filter, the stored format, a stored
//! role the enum no longer has, a database made before the model had roles, and a
//! change made on one instance seen by the other at its next request.
//!
//! The store-dependent flows run on the memory store, a SQLite file and
//! PostgreSQL (needs `WARDEN_TEST_POSTGRES_URL`, else "skipped").

#[macro_use]
mod common;

use std::sync::Arc;

use axum::Json;
use axum::routing::get;
use common::events::Collect;
use common::served::Shared;
use common::{Db, Http, Jwt, Reply, assert_forbidden};
use reqwest::Method;
use serde_json::{Value, json};
use warden::store::CacheSettings;
use warden::{Clock, MemoryStore, UserStore, Warden, auth_backend, protected, user_model};

const PASSWORD: &str = "correct-horse-battery";
const ADMIN: &str = "root@example.com";

#[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
pub enum Role {
    Admin,
    Editor,
    Viewer,
    #[role("billing:viewer")]
    Billing,
}

#[user_model]
pub struct Member {
    #[user(read, update)]
    pub nickname: Option<String>,
    #[user(roles)]
    pub roles: Vec<Role>,
}

#[auth_backend(name = "keys", strategy = "api_key")]
struct Keys;

#[protected(active, role = Role::Editor)]
async fn edit(member: Member) -> Json<Value> {
    Json(json!({ "editor": member.email }))
}

#[protected(active, any_role(Role::Editor, Role::Admin))]
async fn publish(member: Member) -> Json<Value> {
    Json(json!({ "publisher": member.email }))
}

#[derive(Clone, Copy, warden::Scopes)]
pub enum Scope {
    #[scope("invoices:read")]
    InvoicesRead,
}

#[protected(active, role = Role::Billing, scope = Scope::InvoicesRead)]
#[utoipa::path(get, path = "/invoices", responses((status = 200, description = "The invoices")))]
async fn invoices(_member: Member) -> Json<Value> {
    Json(json!({ "invoices": [] }))
}

/// An optional guard with a role: the user if they hold it, else nobody.
#[protected(optional, role = Role::Viewer)]
async fn peek(member: Option<Member>) -> Json<Value> {
    Json(json!({ "viewer": member.map(|m| m.email) }))
}

/// Two instances over one database, on one manual clock.
struct Pair {
    a: Http,
    b: Http,
    warden_a: Warden<Member>,
    events: Collect,
    db: Option<Db>,
}

fn warden_over(
    store: Arc<dyn UserStore<Member>>,
    clock: &Clock,
    events: &Collect,
    cache: CacheSettings,
) -> Warden<Member> {
    Warden::builder()
        .clock(clock.clone())
        .shared_store(store)
        .user_cache(cache)
        .backend::<Jwt>()
        .unwrap()
        .backend::<Keys>()
        .unwrap()
        .scopes::<Scope>()
        .security_events(events.clone())
        .build()
        .unwrap()
}

fn app(warden: &Warden<Member>) -> axum::Router {
    axum::Router::new()
        .route("/edit", get(edit))
        .route("/publish", get(publish))
        .route("/invoices", get(invoices))
        .route("/peek", get(peek))
        .merge(warden.routes())
        .with_state(warden.clone())
}

async fn pair(shared: Shared<Member>) -> Pair {
    let clock = Clock::manual(common::now());
    let events = Collect::default();
    let cache = shared.cache();
    let [one, two] = shared.stores;
    let a = warden_over(one, &clock, &events, cache);
    let b = warden_over(two, &clock, &events, cache);
    a.manager()
        .ensure_superuser(ADMIN, PASSWORD.into())
        .await
        .unwrap();
    Pair {
        a: Http::new(common::serve(app(&a)).await),
        b: Http::new(common::serve(app(&b)).await),
        warden_a: a,
        events,
        db: shared.db,
    }
}

async fn memory() -> Pair {
    pair(Shared::memory()).await
}

async fn sqlite(dir: &tempfile::TempDir) -> Pair {
    pair(Shared::sqlite(dir, "roles.db").await).await
}

async fn postgres(test: &str) -> Option<Pair> {
    Some(pair(Shared::postgres(test).await?).await)
}

impl Pair {
    /// A new user signed in on A: their id and token.
    async fn member(&self, email: &str) -> (String, String) {
        let id = self.a.register(email, PASSWORD).await;
        (id, self.a.login("jwt", email, PASSWORD).await)
    }

    async fn admin(&self) -> String {
        self.a.login("jwt", ADMIN, PASSWORD).await
    }

    /// A superuser's `PATCH /users/{id}` on A.
    async fn give(&self, admin: &str, id: &str, body: Value) -> Reply {
        self.a
            .send(
                Method::PATCH,
                &format!("/users/{id}"),
                Some(admin),
                Some(&body),
            )
            .await
    }

    async fn get(&self, http: &Http, path: &str, token: &str) -> Reply {
        http.send(Method::GET, path, Some(token), None).await
    }
}

/// `GET path` on B once it answers `status` (at most 2 s): B hears of a change
/// made on A through PostgreSQL's change feed, which empties its user cache a few
/// milliseconds later (over SQLite and memory it keeps none, and answers at once).
async fn on_b(pair: &Pair, path: &str, token: &str, status: u16) -> Reply {
    let mut last = None;
    let seen = async || {
        let reply = pair.get(&pair.b, path, token).await;
        let answered = reply.status == status;
        last = Some(reply);
        answered
    };
    common::until_seen(&format!("{path} answering {status} on B"), seen).await;
    last.unwrap()
}

#[track_caller]
fn assert_ok(reply: &Reply, body: Value) {
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json(), body);
}

/// A guard admits a holder of the role and refuses others with 403; a superuser
/// gives roles on one instance and the other admits at its next request; the
/// user reads their roles as names.
async fn guards_follow_the_roles_a_superuser_gives(pair: &Pair) {
    let (ann, token) = pair.member("ann@example.com").await;
    let admin = pair.admin().await;
    let me = pair.a.me(&token).await;
    assert_eq!(me.json()["roles"], json!([]), "{}", me.text);
    for path in ["/edit", "/publish", "/invoices"] {
        assert_forbidden(&on_b(pair, path, &token, 403).await);
    }
    // Not a holder: the optional guard sees nobody (no 403).
    assert_ok(
        &pair.get(&pair.a, "/peek", &token).await,
        json!({"viewer": null}),
    );

    let given = pair
        .give(
            &admin,
            &ann,
            json!({"roles": ["viewer", "editor", "editor"]}),
        )
        .await;
    assert_eq!(given.status, 200, "{}", given.text);
    // Names, in the enum's order, each once.
    assert_eq!(given.json()["roles"], json!(["editor", "viewer"]));
    assert_ok(
        &on_b(pair, "/edit", &token, 200).await,
        json!({"editor": "ann@example.com"}),
    );
    assert_ok(
        &on_b(pair, "/publish", &token, 200).await,
        json!({"publisher": "ann@example.com"}),
    );
    assert_forbidden(&on_b(pair, "/invoices", &token, 403).await);
    assert_ok(
        &on_b(pair, "/peek", &token, 200).await,
        json!({"viewer": "ann@example.com"}),
    );
    assert_eq!(
        pair.b.me(&token).await.json()["roles"],
        json!(["editor", "viewer"])
    );

    // `any_role`: either role admits; a role with a written name works as any.
    let swapped = pair
        .give(&admin, &ann, json!({"roles": ["admin", "billing:viewer"]}))
        .await;
    assert_eq!(swapped.json()["roles"], json!(["admin", "billing:viewer"]));
    assert_forbidden(&on_b(pair, "/edit", &token, 403).await);
    assert_ok(
        &on_b(pair, "/publish", &token, 200).await,
        json!({"publisher": "ann@example.com"}),
    );
    assert_ok(
        &on_b(pair, "/invoices", &token, 200).await,
        json!({"invoices": []}),
    );

    // An empty list takes every role away; leaving `roles` out keeps them.
    let kept = pair.give(&admin, &ann, json!({"nickname": "Ann"})).await;
    assert_eq!(kept.json()["roles"], json!(["admin", "billing:viewer"]));
    let cleared = pair.give(&admin, &ann, json!({"roles": []})).await;
    assert_eq!(cleared.json()["roles"], json!([]));
    assert_forbidden(&on_b(pair, "/publish", &token, 403).await);

    // Each change is a security event with both sides.
    common::until_seen("three roles_changed events", async || {
        pair.events.named("roles_changed").await.len() == 3
    })
    .await;
    let changes = pair.events.named("roles_changed").await;
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert_eq!(changes[0]["from"], json!([]));
    assert_eq!(changes[0]["to"], json!(["editor", "viewer"]));
    assert_eq!(changes[2]["to"], json!([]));
}

on_every_store!(
    guards_follow_roles,
    guards_follow_the_roles_a_superuser_gives
);

/// Nobody gives themself a role: not at registration, not by their own update,
/// not with a superuser flag they lack; an unknown role is a 422 naming the
/// valid ones, and so is an unknown `role=` filter.
async fn roles_are_a_superusers_to_give(pair: &Pair) {
    let registered = pair
        .a
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(&json!({
                "email": "eve@example.com",
                "password": PASSWORD,
                "roles": ["admin"],
            })),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    assert_eq!(registered.json()["roles"], json!([]));
    let eve = registered.json()["id"].as_str().unwrap().to_owned();
    let token = pair.a.login("jwt", "eve@example.com", PASSWORD).await;

    let own = pair
        .a
        .send(
            Method::PATCH,
            "/users/me",
            Some(&token),
            Some(&json!({"roles": ["admin"], "nickname": "Eve"})),
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.text);
    assert_eq!(own.json()["roles"], json!([]));
    assert_eq!(own.json()["nickname"], json!("Eve"));
    assert_forbidden(&pair.give(&token, &eve, json!({"roles": ["admin"]})).await);
    assert_forbidden(&pair.get(&pair.a, "/publish", &token).await);

    let admin = pair.admin().await;
    let unknown = pair
        .give(&admin, &eve, json!({"roles": ["editor", "owner"]}))
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.text);
    assert_eq!(
        unknown.json()["detail"][0]["msg"],
        json!("Unknown roles: owner; the valid roles are: admin, editor, viewer, billing:viewer")
    );
    assert_eq!(unknown.json()["detail"][0]["loc"], json!(["body", "roles"]));
    let not_a_list = pair.give(&admin, &eve, json!({"roles": "editor"})).await;
    assert_eq!(not_a_list.status, 422, "{}", not_a_list.text);
    // Nothing was written by the refused updates.
    assert_eq!(pair.a.me(&token).await.json()["roles"], json!([]));

    let filter = pair.get(&pair.a, "/users?role=owner", &admin).await;
    assert_eq!(filter.status, 422, "{}", filter.text);
    assert_eq!(
        filter.json()["detail"][0]["msg"],
        json!("Input should be 'admin', 'editor', 'viewer' or 'billing:viewer'")
    );
}

on_every_store!(
    roles_given_only_by_superusers,
    roles_are_a_superusers_to_give
);

/// An API key acts as its user: it passes a role guard while the user holds the
/// role, and not after a superuser takes it away (on the other instance too).
async fn a_key_holds_its_users_roles(pair: &Pair) {
    let (ann, token) = pair.member("ann@example.com").await;
    let admin = pair.admin().await;
    let created = pair
        .a
        .send(
            Method::POST,
            "/users/me/api-keys",
            Some(&token),
            Some(&json!({"name": "ci", "scopes": ["invoices:read"]})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let key = created.json()["key"].as_str().unwrap().to_owned();
    assert_forbidden(&on_b(pair, "/edit", &key, 403).await);
    pair.give(&admin, &ann, json!({"roles": ["editor"]})).await;
    assert_ok(
        &on_b(pair, "/edit", &key, 200).await,
        json!({"editor": "ann@example.com"}),
    );
    // The role and the scope, both needed.
    assert_forbidden(&on_b(pair, "/invoices", &key, 403).await);
    pair.give(&admin, &ann, json!({"roles": ["editor", "billing:viewer"]}))
        .await;
    assert_ok(
        &on_b(pair, "/invoices", &key, 200).await,
        json!({"invoices": []}),
    );
    // A key never changes a user, and so never their roles.
    assert_eq!(
        pair.give(&key, &ann, json!({"roles": ["admin"]}))
            .await
            .status,
        403
    );
    pair.give(&admin, &ann, json!({"roles": []})).await;
    assert_forbidden(&on_b(pair, "/edit", &key, 403).await);
}

on_every_store!(keys_hold_their_users_roles, a_key_holds_its_users_roles);

/// A superuser acting as a user holds the user's roles and none of their own
/// powers: the impersonation passes the user's role guards and gives no role, not
/// even to the user it acts as.
async fn an_impersonation_acts_with_the_users_roles(pair: &Pair) {
    let (ann, own) = pair.member("ann@example.com").await;
    let admin = pair.admin().await;
    pair.give(&admin, &ann, json!({"roles": ["editor"]})).await;
    let started = pair
        .a
        .send(
            Method::POST,
            &format!("/users/{ann}/impersonate"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.text);
    let acting = started.json()["access_token"].as_str().unwrap().to_owned();
    assert_ok(
        &on_b(pair, "/edit", &acting, 200).await,
        json!({"editor": "ann@example.com"}),
    );
    assert_forbidden(&on_b(pair, "/invoices", &acting, 403).await);
    assert_forbidden(&pair.give(&acting, &ann, json!({"roles": ["admin"]})).await);
    assert_eq!(pair.b.me(&own).await.json()["roles"], json!(["editor"]));
}

on_every_store!(
    impersonation_holds_the_users_roles,
    an_impersonation_acts_with_the_users_roles
);

/// `GET /users?role=` pages through the holders of a role only.
async fn the_list_filters_by_role(pair: &Pair) {
    let admin = pair.admin().await;
    let mut editors = Vec::new();
    for n in 0..5 {
        let (id, _) = pair.member(&format!("user{n}@example.com")).await;
        let roles = if n % 2 == 0 {
            json!(["editor"])
        } else {
            json!(["billing:viewer"])
        };
        assert_eq!(
            pair.give(&admin, &id, json!({"roles": roles})).await.status,
            200
        );
        if n % 2 == 0 {
            editors.push(format!("user{n}@example.com"));
        }
    }
    let page = |reply: Reply| -> Vec<String> {
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|user| user["email"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut found = page(pair.get(&pair.a, "/users?role=editor", &admin).await);
    found.sort();
    assert_eq!(found, editors);
    // `billing:viewer`'s `:` needs no escape, and `viewer` is not a substring
    // match of it.
    assert_eq!(
        page(
            pair.get(&pair.a, "/users?role=billing:viewer", &admin)
                .await
        )
        .len(),
        2
    );
    assert!(page(pair.get(&pair.a, "/users?role=viewer", &admin).await).is_empty());
    assert!(page(pair.get(&pair.a, "/users?role=admin", &admin).await).is_empty());
}

on_every_store!(list_by_role, the_list_filters_by_role);

/// The column holds names separated by spaces; one the enum no longer has is
/// skipped, never an unloadable user.
async fn the_stored_format_is_names_with_spaces(pair: &Pair) {
    let db = pair.db.as_ref().unwrap();
    let (ann, token) = pair.member("ann@example.com").await;
    let admin = pair.admin().await;
    pair.give(&admin, &ann, json!({"roles": ["viewer", "admin"]}))
        .await;
    assert_eq!(
        db.strings("SELECT roles FROM \"user\" WHERE email = 'ann@example.com'")
            .await,
        ["admin viewer"]
    );
    db.execute("UPDATE \"user\" SET roles = 'owner editor' WHERE email = 'ann@example.com'")
        .await;
    let me = pair.b.me(&token).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json()["roles"], json!(["editor"]));
    assert_ok(
        &on_b(pair, "/edit", &token, 200).await,
        json!({"editor": "ann@example.com"}),
    );
    let found = pair.warden_a.manager().get(&ann.parse().unwrap()).await;
    assert_eq!(found.unwrap().unwrap().roles, [Role::Editor]);
}

on_both_stores!(stored_format, the_stored_format_is_names_with_spaces);

/// The model before it had roles.
mod before {
    #[warden::user_model]
    pub struct Member {
        #[user(read, update)]
        pub nickname: Option<String>,
    }
}

/// A database made by the model without roles: opening it with roles stops with
/// the one statement to run (the user table is the application's, as every field
/// it adds); after it, every existing user has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_made_before_roles_gains_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    {
        let old = warden::SqliteStore::<before::Member>::open(&url)
            .await
            .unwrap();
        let warden: Warden<before::Member> = Warden::builder()
            .shared_store(Arc::new(old))
            .backend::<Jwt>()
            .unwrap()
            .build()
            .unwrap();
        let http = Http::new(common::serve(warden.routes().with_state(warden.clone())).await);
        http.register("old@example.com", PASSWORD).await;
    }
    let refused = warden::SqliteStore::<Member>::open(&url)
        .await
        .err()
        .unwrap();
    assert_eq!(
        refused.to_string(),
        "the user table does not match the model:\ncolumn `roles` of Member is missing: run ALTER TABLE \"user\" ADD COLUMN \"roles\" TEXT NOT NULL DEFAULT '';"
    );
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("ALTER TABLE \"user\" ADD COLUMN \"roles\" TEXT NOT NULL DEFAULT ''")
        .execute(&pool)
        .await
        .unwrap();
    let store = warden::SqliteStore::<Member>::open(&url).await.unwrap();
    let old = store
        .get_by_email("old@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(old.roles.is_empty());
    let mut promoted = old.clone();
    promoted.roles = vec![Role::Viewer];
    let stored = store.replace(&old, promoted).await.unwrap();
    assert_eq!(stored.roles, [Role::Viewer]);
}

/// The document shows a guarded route's roles and scope by name, and the route
/// table the guard as written.
#[tokio::test]
async fn the_document_names_roles_and_scopes() {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    let (router, api) = OpenApiRouter::<Warden<Member>>::new()
        .routes(routes!(invoices))
        .split_for_parts();
    let warden: Warden<Member> = Warden::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .backend::<Keys>()
        .unwrap()
        .scopes::<Scope>()
        .openapi(api)
        .build()
        .unwrap();
    let row = (
        "GET".to_owned(),
        "/invoices".to_owned(),
        "#[protected(active, scope = InvoicesRead, role = Billing)]".to_owned(),
    );
    assert!(
        warden.route_table().contains(&row),
        "{:?}",
        warden.route_table()
    );
    let app = router.merge(warden.routes()).with_state(warden);
    let http = Http::new(common::serve(app).await);
    let doc = http
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .json();
    let invoices = &doc["paths"]["/invoices"]["get"];
    assert_eq!(
        invoices["security"],
        json!([{"OAuth2PasswordBearer": ["invoices:read"]}, {"HTTPBearer": ["invoices:read"]}])
    );
    assert_eq!(
        invoices["responses"]["403"]["description"],
        "The user holds none of the roles `billing:viewer`. An API key without the scope \
         `invoices:read` (`WWW-Authenticate: Bearer error=\"insufficient_scope\"`)."
    );
    let roles = &doc["components"]["schemas"]["UserRead"]["properties"]["roles"];
    assert_eq!(
        roles["items"]["enum"],
        json!(["admin", "editor", "viewer", "billing:viewer"])
    );
    assert!(
        doc["components"]["schemas"]["UserUpdate"]["properties"]["roles"].is_object(),
        "{doc}"
    );
}

/// Code gives roles with `set_roles` (names outside the enum skipped) and reads
/// them with `has_role`; `Debug` and `UserRead` show names.
#[test]
fn code_gives_roles_by_name() {
    use warden::UserModel;
    let mut member = Member {
        id: Default::default(),
        email: "a@example.com".into(),
        hashed_password: "$argon2id$secret".into(),
        is_active: true,
        is_superuser: false,
        is_verified: false,
        nickname: None,
        roles: Vec::new(),
    };
    member.set_roles(&["viewer", "nobody", "admin"]);
    assert_eq!(member.roles, [Role::Admin, Role::Viewer]);
    assert!(member.has_role("viewer") && !member.has_role("editor"));
    assert_eq!(member.role_names(), ["admin", "viewer"]);
    assert_eq!(
        <Member as UserModel>::ROLES,
        ["admin", "editor", "viewer", "billing:viewer"]
    );
    let debug = format!("{member:?}");
    assert!(debug.contains(r#"roles: ["admin", "viewer"]"#), "{debug}");
    assert!(!debug.contains("argon2id"), "{debug}");
    assert_eq!(
        serde_json::to_value(&member).unwrap()["roles"],
        json!(["admin", "viewer"])
    );
}
