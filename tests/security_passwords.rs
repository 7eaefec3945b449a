//! Password and data requirements (ASVS 6.3.8, OWASP Password Storage Cheat Sheet, ASVS V14 on secrets in logs): login answers, passwords as typed, hash storage
//! and upgrades, and secrets kept out of output. Over real HTTP where a client would
//! see the behaviour.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;
use warden::{PasswordHasher, Secret, User};

use common::{SECRET, Server};

/// Hang detection for hostile sizes, not a benchmark.
const QUICK: Duration = Duration::from_secs(2);

/// What a new hash starts with: Argon2id, OWASP's minimum parameters.
const OWASP_ARGON2ID: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

/// `bcrypt.hashpw(b"legacy-password-1", bcrypt.gensalt(4))`, Python bcrypt 5.0.0.
const BCRYPT_HASH: &str = "$2b$04$Ijxuv6UYyail9Gk.3e24WufGH6KeuqEyK2PsUd6MsgsAEVW6XLJiy";
const BCRYPT_PASSWORD: &str = "legacy-password-1";

/// `argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
/// .hash("legacy-password-2")`, argon2-cffi 25.1.0: weaker than OWASP's minimum.
const WEAK_ARGON2_HASH: &str = "$argon2id$v=19$m=8192,t=1,p=1$1i6QSOvEg3WhdaRtwYr0jQ$ThoJBLzqvsCipD3ivXGXTt44yYIiBwEhDoTLgRQqQQc";
const WEAK_ARGON2_PASSWORD: &str = "legacy-password-2";

/// `argon2.PasswordHasher().hash("legacy-password-3")`, argon2-cffi 25.1.0 defaults
/// (what FastAPI Users writes): other parameters than ours, so re-hashed on login
/// (hashes converge on one cost and login timing says nothing about the account).
const FASTAPI_ARGON2_HASH: &str = "$argon2id$v=19$m=65536,t=3,p=4$Oq0esOOTmMSqkVayhAqN4A$YJnKg4tO8Plht3iVKFwVZf6hEuUszxRembJNec9XYOg";
const FASTAPI_ARGON2_PASSWORD: &str = "legacy-password-3";

/// A bcrypt hash (Python bcrypt 5.0.0, cost 4) of exactly 72 bytes: bcrypt's limit.
const BCRYPT_72_HASH: &str = "$2b$04$OlvXHnEPwwJ0hsMDMaUK5.Cg.xA.raSDmg23spKmtPrEmkVmQU30u";
const BCRYPT_72_PASSWORD: &str =
    "legacy-seventy-two-legacy-seventy-two-legacy-seventy-two-legacy-seventy-";

/// A bcrypt hash (Python bcrypt 5.0.0, cost 4) of `legacy-nul-password`.
const BCRYPT_NUL_HASH: &str = "$2b$04$1QRysQwrX6H13eJ6HwbDGu03saIp484Wz.utAzEEHsK7vZA7vXm1.";
const BCRYPT_NUL_PASSWORD: &str = "legacy-nul-password";

const BAD_CREDENTIALS: &str = "LOGIN_BAD_CREDENTIALS";

// ---------------------------------------------------------------------------------
// Support
// ---------------------------------------------------------------------------------

/// `POST /auth/jwt/login` with the form; (status, raw body text).
async fn login_raw(server: &Server, username: &str, password: &str) -> (u16, String) {
    let body = format!(
        "username={}&password={}",
        common::urlencode(username),
        common::urlencode(password)
    );
    let response = server
        .client
        .post(server.url("/auth/jwt/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

/// The stored hash of `email`.
async fn stored_hash(server: &Server, email: &str) -> String {
    server
        .warden
        .manager()
        .store()
        .get_by_email(email)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{email} is not stored"))
        .hashed_password
}

/// Inserts a user with this hash straight into the store, as a migrated FastAPI
/// Users database would hold it.
async fn insert_legacy_user(server: &Server, email: &str, hash: &str) -> User {
    let user = User {
        id: Uuid::new_v4(),
        email: email.to_owned(),
        hashed_password: hash.to_owned(),
        is_active: true,
        is_superuser: false,
        is_verified: false,
    };
    server
        .warden
        .manager()
        .store()
        .create(user.clone())
        .await
        .unwrap();
    user
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn assert_password_too_long(status: u16, body: &Value, case: &str) {
    assert_eq!(status, 422, "{case}: {body}");
    let entries = body["detail"]
        .as_array()
        .unwrap_or_else(|| panic!("{case}: {body}"));
    assert!(
        entries
            .iter()
            .any(|entry| entry["loc"] == json!(["body", "password"])),
        "{case}: the 422 must name the password field: {body}"
    );
}

// ---------------------------------------------------------------------------------
// Item 12: unknown user and wrong password are indistinguishable
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn item_12_unknown_user_and_wrong_password_get_the_same_answer() {
    let server = common::spawn().await;
    server
        .register("alice@example.com", "correct-horse-battery")
        .await;
    let wrong = server
        .login("alice@example.com", "wrong-password-here")
        .await;
    let unknown = server
        .login("nobody@example.com", "wrong-password-here")
        .await;
    let unknown_right_password = server
        .login("nobody@example.com", "correct-horse-battery")
        .await;
    assert_eq!(wrong, (400, json!({ "detail": BAD_CREDENTIALS })));
    assert_eq!(unknown, wrong);
    assert_eq!(unknown_right_password, wrong);
    // Byte for byte, not just as JSON.
    let (_, wrong_text) = login_raw(&server, "alice@example.com", "wrong-password-here").await;
    let (_, unknown_text) = login_raw(&server, "nobody@example.com", "wrong-password-here").await;
    assert_eq!(wrong_text, unknown_text);
}

#[tokio::test]
async fn item_12_unknown_user_costs_as_much_as_a_wrong_password() {
    let server = common::spawn().await;
    server
        .register("alice@example.com", "correct-horse-battery")
        .await;
    // Warm up both paths (connection, first allocation of the hasher's memory).
    login_raw(&server, "alice@example.com", "wrong-password-here").await;
    login_raw(&server, "nobody@example.com", "wrong-password-here").await;
    // Other tests share the machine: a noisy round is measured again (up to three
    // times). A missing dummy verification is off by an order of magnitude every
    // time, so retries cannot hide it.
    let mut rounds = Vec::new();
    for _ in 0..3 {
        let (unknown, wrong) = login_medians(&server).await;
        let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
        rounds.push(format!(
            "unknown {unknown:?} / wrong {wrong:?} = {ratio:.2}"
        ));
        if (0.5..=2.0).contains(&ratio) {
            return;
        }
    }
    panic!(
        "an unknown-user login must cost what a wrong-password login costs (a dummy \
         verification); median ratios outside 0.5..=2.0: {rounds:?}"
    );
}

/// Medians of 15 unknown-user and 15 wrong-password logins, interleaved and
/// sequential, so drift in machine load hits both series alike.
async fn login_medians(server: &Server) -> (Duration, Duration) {
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..15 {
        let start = Instant::now();
        let (status, _) = login_raw(server, "alice@example.com", "wrong-password-here").await;
        wrong.push(start.elapsed());
        assert_eq!(status, 400);
        let start = Instant::now();
        let (status, _) = login_raw(
            server,
            &format!("nobody{i}@example.com"),
            "wrong-password-here",
        )
        .await;
        unknown.push(start.elapsed());
        assert_eq!(status, 400);
    }
    (median(unknown), median(wrong))
}

#[tokio::test]
async fn item_12_inactive_user_gets_the_same_400() {
    let server = common::spawn().await;
    server
        .register("alice@example.com", "correct-horse-battery")
        .await;
    server
        .register("bob@example.com", "correct-horse-battery")
        .await;
    server
        .set_flags("alice@example.com", false, false, false)
        .await;
    let inactive = login_raw(&server, "alice@example.com", "correct-horse-battery").await;
    let wrong = login_raw(&server, "bob@example.com", "wrong-password-here").await;
    let unknown = login_raw(&server, "nobody@example.com", "correct-horse-battery").await;
    assert_eq!(inactive.0, 400, "{}", inactive.1);
    assert_eq!(
        serde_json::from_str::<Value>(&inactive.1).unwrap(),
        json!({ "detail": BAD_CREDENTIALS })
    );
    assert_eq!(inactive, wrong);
    assert_eq!(inactive, unknown);
}

/// The right password of an inactive account is refused as slowly as a wrong one:
/// its refusal is padded to the hasher's refusal floor like every wrong password's
/// (counted by the hasher, not timed, so the test is deterministic). Before, it
/// answered at the speed of one verification, ~10× faster than a wrong password.
#[tokio::test]
async fn an_inactive_accounts_right_password_is_refused_as_slowly_as_a_wrong_one() {
    let hasher = PasswordHasher::new().unwrap();
    let warden = warden::Warden::<User>::builder()
        .store(warden::MemoryStore::new())
        .backend::<common::Jwt>()
        .unwrap()
        .password_hasher(hasher.clone())
        .build()
        .unwrap();
    let server = common::spawn_with(warden).await;
    server
        .register("alice@example.com", "correct-horse-battery")
        .await;
    server
        .set_flags("alice@example.com", false, false, false)
        .await;
    let wrong = login_raw(&server, "alice@example.com", "wrong-password-here").await;
    assert_eq!(hasher.refusals_padded(), 1, "a wrong password is padded");
    let inactive = login_raw(&server, "alice@example.com", "correct-horse-battery").await;
    assert_eq!(inactive, wrong);
    assert_eq!(
        hasher.refusals_padded(),
        2,
        "so is an inactive account's right one"
    );
}

// ---------------------------------------------------------------------------------
// Item 13: passwords exactly as typed
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn item_13_passwords_round_trip_exactly_as_typed() {
    let server = common::spawn().await;
    let hundred: String = (0..100).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    let thousand: String = (0..1000).map(|i| (b'A' + (i % 26) as u8) as char).collect();
    let multibyte = "é".repeat(1000);
    // (password, variants that must fail)
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            "correct horse battery staple ".into(),
            vec!["correct horse battery staple".into()],
        ),
        (
            "  leading-spaces-password".into(),
            vec!["leading-spaces-password".into()],
        ),
        (
            "before\0after-the-nul".into(),
            vec!["before".into(), "beforeafter-the-nul".into()],
        ),
        (
            "tab\there-and\nnewline".into(),
            vec!["tab here-and newline".into()],
        ),
        (
            hundred.clone(),
            vec![hundred[..72].into(), hundred[..99].into()],
        ),
        (
            thousand.clone(),
            vec![
                thousand[..72].into(),
                format!("{}different", &thousand[..72]),
                thousand[..999].into(),
            ],
        ),
        (multibyte.clone(), vec!["é".repeat(999)]),
    ];
    for (i, (password, variants)) in cases.iter().enumerate() {
        let email = format!("user{i}@example.com");
        let (status, body) = server.register(&email, password).await;
        assert_eq!(status, 201, "register {password:.20?}: {body}");
        let (status, body) = server.login(&email, password).await;
        assert_eq!(status, 200, "login with {password:.20?}: {body}");
        // JSON login reads the same password.
        let response = server
            .client
            .post(server.url("/auth/jwt/login"))
            .json(&json!({ "username": email, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "JSON login with {password:.20?}");
        for variant in variants {
            let (status, body) = server.login(&email, variant).await;
            assert_eq!(
                (status, body),
                (400, json!({ "detail": BAD_CREDENTIALS })),
                "{variant:.20?} must not open the account of {password:.20?}"
            );
        }
    }
}

#[tokio::test]
async fn item_13_a_different_password_sharing_the_first_72_bytes_fails() {
    let server = common::spawn().await;
    let prefix = "p".repeat(72);
    let password = format!("{prefix}-the-real-ending");
    let (status, body) = server.register("alice@example.com", &password).await;
    assert_eq!(status, 201, "{body}");
    for other in [
        format!("{prefix}-another-ending"),
        prefix.clone(),
        format!("{prefix}-the-real-endinG"),
    ] {
        let (status, _) = server.login("alice@example.com", &other).await;
        assert_eq!(status, 400, "{other}");
    }
    assert_eq!(server.login("alice@example.com", &password).await.0, 200);
}

#[tokio::test]
async fn item_13_legacy_bcrypt_hashes_are_never_truncated() {
    let server = common::spawn().await;
    // bcrypt reads 72 bytes: a 73rd byte must not be ignored.
    insert_legacy_user(&server, "long@example.com", BCRYPT_72_HASH).await;
    for longer in [
        format!("{BCRYPT_72_PASSWORD}x"),
        format!("{BCRYPT_72_PASSWORD}{}", "anything".repeat(10)),
    ] {
        let (status, _) = server.login("long@example.com", &longer).await;
        assert_eq!(status, 400, "{} bytes", longer.len());
    }
    assert_eq!(
        stored_hash(&server, "long@example.com").await,
        BCRYPT_72_HASH
    );
    // C bcrypt stops at NUL: a suffix after NUL must not be ignored.
    insert_legacy_user(&server, "nul@example.com", BCRYPT_NUL_HASH).await;
    let (status, _) = server
        .login("nul@example.com", &format!("{BCRYPT_NUL_PASSWORD}\0suffix"))
        .await;
    assert_eq!(status, 400);
    // The exact passwords still work (and upgrade).
    assert_eq!(
        server.login("long@example.com", BCRYPT_72_PASSWORD).await.0,
        200
    );
    assert_eq!(
        server.login("nul@example.com", BCRYPT_NUL_PASSWORD).await.0,
        200
    );
}

#[tokio::test]
async fn item_13_one_megabyte_password_is_refused_quickly() {
    let server = common::spawn().await;
    let huge = "a".repeat(1 << 20);
    let echo = "a".repeat(64);

    let start = Instant::now();
    let response = server
        .client
        .post(server.url("/auth/register"))
        .json(&json!({ "email": "alice@example.com", "password": huge }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let elapsed = start.elapsed();
    assert!(elapsed < QUICK, "register with 1 MB took {elapsed:?}");
    assert!(!text.contains(&echo), "the 422 must not echo the password");
    assert_password_too_long(status, &serde_json::from_str(&text).unwrap(), "register");
    assert!(
        server
            .warden
            .manager()
            .store()
            .get_by_email("alice@example.com")
            .await
            .unwrap()
            .is_none(),
        "nothing may be stored"
    );

    server
        .register("alice@example.com", "correct-horse-battery")
        .await;
    for email in ["alice@example.com", "nobody@example.com"] {
        let start = Instant::now();
        let (status, text) = login_raw(&server, email, &huge).await;
        let elapsed = start.elapsed();
        assert!(elapsed < QUICK, "form login with 1 MB took {elapsed:?}");
        assert!(!text.contains(&echo));
        assert_password_too_long(status, &serde_json::from_str(&text).unwrap(), "form login");

        let start = Instant::now();
        let response = server
            .client
            .post(server.url("/auth/jwt/login"))
            .json(&json!({ "username": email, "password": huge }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let elapsed = start.elapsed();
        assert!(elapsed < QUICK, "JSON login with 1 MB took {elapsed:?}");
        assert!(!text.contains(&echo));
        assert_password_too_long(status, &serde_json::from_str(&text).unwrap(), "JSON login");
    }
}

// ---------------------------------------------------------------------------------
// Item 14: Argon2id with OWASP parameters; legacy hashes verified and upgraded
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn item_14_new_hashes_are_argon2id_with_owasp_parameters() {
    let server = common::spawn().await;
    let (status, _) = server
        .register("alice@example.com", "correct-horse-battery")
        .await;
    assert_eq!(status, 201);
    let hash = stored_hash(&server, "alice@example.com").await;
    assert!(hash.starts_with(OWASP_ARGON2ID), "{hash}");
    // Salted: the same password gives another hash.
    server
        .register("bob@example.com", "correct-horse-battery")
        .await;
    let other = stored_hash(&server, "bob@example.com").await;
    assert!(other.starts_with(OWASP_ARGON2ID), "{other}");
    assert_ne!(hash, other);
    // A login does not rewrite a current hash.
    assert_eq!(
        server
            .login("alice@example.com", "correct-horse-battery")
            .await
            .0,
        200
    );
    assert_eq!(stored_hash(&server, "alice@example.com").await, hash);
}

#[tokio::test]
async fn item_14_bcrypt_hash_is_verified_and_upgraded_on_login() {
    let server = common::spawn().await;
    let user = insert_legacy_user(&server, "legacy@example.com", BCRYPT_HASH).await;
    // A wrong password neither logs in nor touches the hash.
    assert_eq!(
        server
            .login("legacy@example.com", "legacy-password-X")
            .await
            .0,
        400
    );
    assert_eq!(
        stored_hash(&server, "legacy@example.com").await,
        BCRYPT_HASH
    );

    let (status, body) = server.login("legacy@example.com", BCRYPT_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let upgraded = stored_hash(&server, "legacy@example.com").await;
    assert!(upgraded.starts_with(OWASP_ARGON2ID), "{upgraded}");
    // The same user, now with the new hash: the password still works, the token too.
    let token = body["access_token"].as_str().unwrap();
    let (status, me) = server.get("/users/me", Some(token)).await;
    assert_eq!(status, 200);
    assert_eq!(me["id"], user.id.to_string());
    assert_eq!(
        server.login("legacy@example.com", BCRYPT_PASSWORD).await.0,
        200
    );
    assert_eq!(stored_hash(&server, "legacy@example.com").await, upgraded);
}

#[tokio::test]
async fn item_14_weaker_argon2id_hash_is_verified_and_upgraded_on_login() {
    let server = common::spawn().await;
    insert_legacy_user(&server, "weak@example.com", WEAK_ARGON2_HASH).await;
    assert_eq!(
        server
            .login("weak@example.com", "legacy-password-X")
            .await
            .0,
        400
    );
    assert_eq!(
        stored_hash(&server, "weak@example.com").await,
        WEAK_ARGON2_HASH
    );
    let (status, body) = server.login("weak@example.com", WEAK_ARGON2_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let upgraded = stored_hash(&server, "weak@example.com").await;
    assert!(upgraded.starts_with(OWASP_ARGON2ID), "{upgraded}");
    assert_eq!(
        server
            .login("weak@example.com", WEAK_ARGON2_PASSWORD)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn item_14_fastapi_users_default_argon2id_hash_converges_on_ours() {
    let server = common::spawn().await;
    insert_legacy_user(&server, "fastapi@example.com", FASTAPI_ARGON2_HASH).await;
    let (status, body) = server
        .login("fastapi@example.com", FASTAPI_ARGON2_PASSWORD)
        .await;
    assert_eq!(status, 200, "{body}");
    let stored = stored_hash(&server, "fastapi@example.com").await;
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "a hash with other parameters is re-hashed with ours: {stored}"
    );
    assert_eq!(
        server
            .login("fastapi@example.com", FASTAPI_ARGON2_PASSWORD)
            .await
            .0,
        200
    );
    assert_eq!(
        server
            .login("fastapi@example.com", "legacy-password-X")
            .await
            .0,
        400
    );
}

/// Runs `work` beside a task that counts its turns on the executor. Work that ran
/// on the executor itself would finish within one poll, leaving no turn to count.
async fn executor_turns_during<F: std::future::Future<Output = ()>>(work: F) -> usize {
    let done = AtomicBool::new(false);
    let turns = AtomicUsize::new(0);
    tokio::join!(
        async {
            work.await;
            done.store(true, Ordering::SeqCst);
        },
        async {
            while !done.load(Ordering::SeqCst) {
                turns.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
            }
        }
    );
    turns.load(Ordering::SeqCst)
}

#[tokio::test]
async fn item_14_hashing_runs_off_the_async_executor() {
    // `#[tokio::test]` is a single-threaded runtime: anything hashed on it blocks it.
    let hasher = PasswordHasher::new().unwrap();
    let hash = std::sync::Mutex::new(String::new());
    let turns = executor_turns_during(async {
        *hash.lock().unwrap() = hasher.hash("correct-horse-battery".into()).await.unwrap();
    })
    .await;
    assert!(turns > 1, "hash: the executor was blocked ({turns} turns)");
    let hash = hash.into_inner().unwrap();
    assert!(hash.starts_with(OWASP_ARGON2ID));

    let turns = executor_turns_during(async {
        let verification = hasher
            .verify("correct-horse-battery".into(), hash.clone())
            .await
            .unwrap();
        assert!(verification.valid);
    })
    .await;
    assert!(
        turns > 1,
        "verify: the executor was blocked ({turns} turns)"
    );

    let turns = executor_turns_during(async {
        let verification = hasher
            .verify(BCRYPT_PASSWORD.into(), BCRYPT_HASH.into())
            .await
            .unwrap();
        assert!(verification.valid);
        assert!(verification.upgraded.is_some());
    })
    .await;
    assert!(
        turns > 1,
        "bcrypt verify and upgrade: the executor was blocked"
    );

    let turns = executor_turns_during(async {
        hasher
            .verify_dummy("nobody's password".into())
            .await
            .unwrap();
    })
    .await;
    assert!(
        turns > 1,
        "dummy verify: the executor was blocked ({turns} turns)"
    );
}

// ---------------------------------------------------------------------------------
// Item 17: no secret or hash in output
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn item_17_hashes_never_appear_in_debug_or_responses() {
    let server = common::spawn().await;
    let password = "correct-horse-battery";
    let register = server
        .client
        .post(server.url("/auth/register"))
        .json(&json!({ "email": "alice@example.com", "password": password }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let hash = stored_hash(&server, "alice@example.com").await;
    let (_, login) = login_raw(&server, "alice@example.com", password).await;
    let token = serde_json::from_str::<Value>(&login).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = server
        .client
        .get(server.url("/users/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Error bodies that concern the password.
    let (_, bad_login) = login_raw(&server, "alice@example.com", "wrong-password-here").await;
    let (_, short) = server.register("bob@example.com", "short").await;
    let duplicate = server
        .client
        .post(server.url("/auth/register"))
        .json(&json!({ "email": "alice@example.com", "password": password }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let user = server
        .warden
        .manager()
        .store()
        .get_by_email("alice@example.com")
        .await
        .unwrap()
        .unwrap();
    let debug = format!("{user:?}");
    let pretty = format!("{user:#?}");
    let salt_and_digest = hash.rsplit('$').next().unwrap();
    for (what, text) in [
        ("register body", register.as_str()),
        ("login body", login.as_str()),
        ("me body", me.as_str()),
        ("bad login body", bad_login.as_str()),
        ("short-password body", &short.to_string()),
        ("duplicate body", duplicate.as_str()),
        ("User Debug", debug.as_str()),
        ("User pretty Debug", pretty.as_str()),
    ] {
        assert!(!text.contains(&hash), "{what} shows the hash: {text}");
        assert!(!text.contains(salt_and_digest), "{what} shows the digest");
        assert!(!text.contains("$argon2"), "{what}: {text}");
        assert!(!text.contains("hashed_password\":"), "{what}: {text}");
        assert!(!text.contains(password), "{what} shows the password");
    }
    // The JSON user is exactly FastAPI Users' UserRead.
    let me: Value = serde_json::from_str(&me).unwrap();
    let mut keys: Vec<_> = me.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["email", "id", "is_active", "is_superuser", "is_verified"]
    );
}

#[tokio::test]
async fn item_17_secrets_never_appear_in_debug_output() {
    let secret = Secret::from(SECRET);
    let debug = format!("{secret:?} {secret:#?}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(!debug.contains(&SECRET[..16]), "{debug}");

    let strategy = warden::JwtStrategy::builder(SECRET, warden::Lifetime::Seconds(60))
        .build()
        .unwrap();
    let debug = format!("{strategy:?} {strategy:#?}");
    assert!(!debug.contains(SECRET), "{debug}");

    let server = common::spawn().await;
    let debug = format!("{:?} {:?}", server.warden, server.warden.manager());
    assert!(!debug.contains(SECRET), "{debug}");

    let create =
        warden::UserCreate::new("correct-horse-battery", ()).with_email("alice@example.com");
    let debug = format!("{create:?}");
    assert!(!debug.contains("correct-horse-battery"), "{debug}");
}
