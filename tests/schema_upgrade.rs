//! Databases made by the previous release upgrade in place: `tests/fixtures/schema_v1/`
//! holds a SQLite file and a PostgreSQL dump written by warden's first schema
//! (`warden_schema` at version 1: a registered user who logged in once, so the
//! session tables hold a row). Opening them runs the later steps once, keeps every
//! row, and an instance of the previous release can keep writing beside the new one
//! (rolling upgrade).

mod common;

use common::{Db, Http, Jwt};
use warden::{SqliteStore, UserStore, Warden};

/// The user the fixture's release registered (and logged in once).
const OLD_USER: &str = "old@example.com";
const OLD_PASSWORD: &str = "old-password-1";

/// The steps an upgraded database has run.
const STEPS: [&str; 10] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];

/// What every upgraded database shows, on either engine.
async fn check_upgraded(db: &Db, store: impl UserStore + Clone) {
    assert_eq!(
        db.strings("SELECT CAST(version AS TEXT) AS step FROM warden_schema ORDER BY version")
            .await,
        STEPS
    );
    // Step 4: the throttle's purge finds past windows by an index.
    let index = match db {
        Db::Sqlite(_) => {
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'warden_throttle_window'"
        }
        Db::Postgres(_) => {
            "SELECT indexname FROM pg_indexes WHERE indexname = 'warden_throttle_window' AND schemaname = current_schema()"
        }
    };
    assert_eq!(db.strings(index).await, ["warden_throttle_window"]);
    // Step 5: two-factor state, its challenges' purge by an index.
    let index = match db {
        Db::Sqlite(_) => {
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'warden_mfa_challenge_expiry'"
        }
        Db::Postgres(_) => {
            "SELECT indexname FROM pg_indexes WHERE indexname = 'warden_mfa_challenge_expiry' AND schemaname = current_schema()"
        }
    };
    assert_eq!(db.strings(index).await, ["warden_mfa_challenge_expiry"]);
    let two_factor = store
        .two_factor()
        .expect("a database store keeps two-factor state");
    two_factor.set_pending("1", "sealed").await.unwrap();
    assert!(
        two_factor
            .confirm("1", "sealed", 1, 100, &["code".into()])
            .await
            .unwrap()
    );
    assert!(two_factor.use_recovery_code("1", "code").await.unwrap());
    assert_eq!(two_factor.purge_expired(0).await.unwrap(), 0);
    assert!(two_factor.disable("1").await.unwrap());
    // Step 6: the passkey tables, the credential id unique; the old user has none.
    assert!(
        db.strings("SELECT credential_id FROM warden_passkey")
            .await
            .is_empty()
    );
    assert!(
        db.strings("SELECT handle FROM warden_passkey_user")
            .await
            .is_empty()
    );
    // Step 7: the ban table, warden's own; the old user is not banned, and can be.
    let bans = store.bans().expect("a database store keeps bans");
    assert_eq!(bans.get("1").await.unwrap(), None);
    let ban = warden_runtime::store::Ban::new("1", 100).until(Some(200));
    bans.put(&ban).await.unwrap();
    assert_eq!(bans.get("1").await.unwrap(), Some(ban));
    assert!(bans.remove("1").await.unwrap());
    // Step 9: the audit trail's table, empty, its ids numbered by the database.
    assert!(
        db.strings("SELECT kind FROM warden_security_event")
            .await
            .is_empty()
    );
    let trail = store
        .audit()
        .expect("a database store keeps security events");
    let event = warden::runtime::audit::SecurityEvent::Logout {
        user_id: "1".into(),
        backend: "jwt".into(),
    };
    for at in [10, 20] {
        let row = warden::runtime::store::StoredEvent::of(at, &event).unwrap();
        trail.record(row).await.unwrap();
    }
    let kept = trail.of_user("1", 10, None).await.unwrap();
    assert_eq!(kept.iter().map(|e| e.at).collect::<Vec<_>>(), [20, 10]);
    assert!(kept[0].id > kept[1].id);
    assert_eq!(trail.purge(30).await.unwrap(), 2);
    // Step 10: API keys, by user; the old user has none and can be given one.
    assert!(db.strings("SELECT id FROM warden_api_key").await.is_empty());
    let index = match db {
        Db::Sqlite(_) => {
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'warden_api_key_user_id'"
        }
        Db::Postgres(_) => {
            "SELECT indexname FROM pg_indexes WHERE indexname = 'warden_api_key_user_id' AND schemaname = current_schema()"
        }
    };
    assert_eq!(db.strings(index).await, ["warden_api_key_user_id"]);
    let old_id = db.strings("SELECT CAST(id AS TEXT) FROM \"user\"").await;
    let keys = store.api_keys().expect("a database store keeps API keys");
    let key = warden::store::StoredApiKey::new("k1", &old_id[0], "ci", "hash", 1)
        .scoped(vec!["reports:read".into()]);
    keys.add(&key).await.unwrap();
    assert_eq!(keys.get("k1").await.unwrap(), Some(key));
    assert!(keys.revoke("k1", &old_id[0], 2).await.unwrap());
    // The first release's session is read with its login as its last sign-in.
    let old = db
        .strings("SELECT id FROM warden_session ORDER BY created_at")
        .await;
    assert_eq!(old.len(), 1, "the fixture holds one session: {old:?}");
    let sessions = store.sessions().expect("a database store keeps sessions");
    let session = sessions.get(&old[0]).await.unwrap().unwrap();
    assert_eq!(session.authenticated_at, session.created_at);
    assert!(session.amr.is_empty());

    // Its user logs in as before; the new session records how.
    let warden: Warden = Warden::builder()
        .store(store.clone())
        .backend::<Jwt>()
        .unwrap()
        .build()
        .unwrap();
    let server = common::spawn_with(warden).await;
    let http = Http::new(server.base.clone());
    let token = http.login("jwt", OLD_USER, OLD_PASSWORD).await;
    assert_eq!(http.me(&token).await.status, 200);
    let sid = common::claims(&token)["sid"].as_str().unwrap().to_owned();
    assert_eq!(
        db.strings(&format!(
            "SELECT amr FROM warden_session WHERE id = '{sid}'"
        ))
        .await,
        ["pwd"]
    );

    // An instance of the previous release writes a session without the new columns:
    // the new code reads it, its login as its last sign-in.
    let created = common::now();
    db.execute(&format!(
        "INSERT INTO warden_session (id, user_id, backend, created_at, last_used_at, expires_at, user_agent, ended_at) \
         VALUES ('from-v1', 'x', 'jwt', {created}, {created}, NULL, NULL, NULL)"
    ))
    .await;
    let written = sessions.get("from-v1").await.unwrap().unwrap();
    assert_eq!(written.authenticated_at, created);
}

#[tokio::test]
async fn a_sqlite_database_of_the_first_release_upgrades_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warden.db");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/schema_v1/warden.db"),
        &file,
    )
    .unwrap();
    let url = format!("sqlite://{}", file.display());
    let store: SqliteStore = SqliteStore::open(&url).await.unwrap();
    let db = Db::Sqlite(store.pool().clone());
    check_upgraded(&db, store.clone()).await;
    drop(store);
    // Opening again changes nothing.
    let again: SqliteStore = SqliteStore::open(&url).await.unwrap();
    assert_eq!(
        Db::Sqlite(again.pool().clone())
            .strings("SELECT CAST(version AS TEXT) AS step FROM warden_schema ORDER BY version")
            .await,
        STEPS
    );
}

#[tokio::test]
async fn a_postgres_database_of_the_first_release_upgrades_in_place() {
    let Some((_, options)) =
        common::postgres("a_postgres_database_of_the_first_release_upgrades_in_place").await
    else {
        return;
    };
    // The dump, loaded into this test's own schema (its names are unqualified).
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .unwrap();
    sqlx::raw_sql(include_str!("fixtures/schema_v1/postgres.sql"))
        .execute(&pool)
        .await
        .unwrap();
    let db = Db::Postgres(pool);
    assert_eq!(
        db.strings("SELECT CAST(version AS TEXT) FROM warden_schema")
            .await,
        ["1"]
    );
    let open = || async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await
            .unwrap();
        warden::PostgresStore::<warden::User>::from_pool(pool)
            .await
            .unwrap()
    };
    let store = open().await;
    check_upgraded(&db, store).await;
    // Opening again changes nothing.
    let _again = open().await;
    assert_eq!(
        db.strings("SELECT CAST(version AS TEXT) AS step FROM warden_schema ORDER BY version")
            .await,
        STEPS
    );
}
