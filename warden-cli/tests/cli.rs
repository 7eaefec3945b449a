//! The `warden` binary, driven as an operator would: exit codes, output, and what it
//! leaves in the database and on disk, checked with warden itself.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use tempfile::TempDir;
use warden::{Algorithm, JwtStrategy, Lifetime, Secret, SqliteStore, User, UserModel, UserStore};

/// The tests' independent TOTP generator (RFC 6238), never warden's own.
#[path = "../../tests/common/totp.rs"]
mod totp;

/// What one run of the binary did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `warden args...` in `dir`, with `stdin` piped in (or an empty stdin) and no
/// `WARDEN_DATABASE_URL` from the test's environment.
fn warden(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    warden_with_env(dir, args, stdin, &[])
}

fn warden_with_env(dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_warden"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("WARDEN_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("the warden binary starts");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        // The command may refuse and exit before it reads: a closed pipe is fine.
        if let Err(error) = pipe.write_all(input.as_bytes()) {
            assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
        }
    }
    drop(pipe);
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn sqlite_url(dir: &TempDir) -> String {
    format!("sqlite://{}", dir.path().join("warden.db").display())
}

async fn user_by_email(url: &str, email: &str) -> Option<User> {
    let store = SqliteStore::<User>::open(url).await.unwrap();
    let user = store.get_by_email(email).await.unwrap();
    store.pool().close().await;
    user
}

/// A model with integer ids, to make a table the stock `User` does not fit.
#[warden::user_model(id = i64)]
pub struct Member {
    #[user(read, update)]
    pub nickname: Option<String>,
}

#[test]
fn migrate_then_check_a_fresh_database() {
    let dir = TempDir::new().unwrap();
    let url = sqlite_url(&dir);
    let migrate = warden(dir.path(), &["migrate", "--database-url", &url], None);
    assert_eq!(migrate.code, 0, "{migrate:?}");
    assert_eq!(migrate.stdout, format!("migrated {url}\n"));
    let check = warden(dir.path(), &["check", "--database-url", &url], None);
    assert_eq!(check.code, 0, "{check:?}");
    assert_eq!(check.stdout, "ok: the user table fits User\n");
    assert_eq!(check.stderr, "");
}

#[test]
fn the_database_url_comes_from_the_environment_then_the_default() {
    let dir = TempDir::new().unwrap();
    let url = sqlite_url(&dir);
    let from_env = warden_with_env(
        dir.path(),
        &["migrate"],
        None,
        &[("WARDEN_DATABASE_URL", &url)],
    );
    assert_eq!(from_env.code, 0, "{from_env:?}");
    assert_eq!(from_env.stdout, format!("migrated {url}\n"));

    let default = warden(dir.path(), &["migrate"], None);
    assert_eq!(default.code, 0, "{default:?}");
    assert_eq!(default.stdout, "migrated sqlite://warden.db\n");
    assert!(dir.path().join("warden.db").exists());
}

#[test]
fn check_reports_a_missing_table() {
    let dir = TempDir::new().unwrap();
    // An empty file is an empty SQLite database.
    std::fs::write(dir.path().join("warden.db"), b"").unwrap();
    let check = warden(
        dir.path(),
        &["check", "--database-url", &sqlite_url(&dir)],
        None,
    );
    assert_eq!(check.code, 1, "{check:?}");
    assert_eq!(check.stdout, "");
    assert_eq!(check.stderr.lines().count(), 1, "{check:?}");
    assert!(
        check
            .stderr
            .starts_with("error: table `user` does not exist"),
        "{check:?}"
    );
}

#[tokio::test]
async fn migrate_and_check_name_the_mismatch() {
    let dir = TempDir::new().unwrap();
    let url = sqlite_url(&dir);
    SqliteStore::<Member>::open(&url)
        .await
        .unwrap()
        .pool()
        .close()
        .await;
    for command in ["check", "migrate"] {
        let run = warden(dir.path(), &[command, "--database-url", &url], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert_eq!(run.stdout, "");
        assert_eq!(
            run.stderr,
            "error: column `id` is INTEGER but User has UUID ids: declare `#[user_model(id = i64)]`\n",
            "{command}"
        );
    }
}

#[tokio::test]
async fn create_superuser_reads_the_password_twice_from_stdin() {
    let dir = TempDir::new().unwrap();
    let url = sqlite_url(&dir);
    let args = [
        "create-superuser",
        "--email",
        "Root@Example.com",
        "--database-url",
        &url,
    ];
    let created = warden(
        dir.path(),
        &args,
        Some("admin-password-1\nadmin-password-1\n"),
    );
    assert_eq!(created.code, 0, "{created:?}");
    let user = user_by_email(&url, "root@example.com").await.unwrap();
    assert!(user.is_superuser() && user.is_active() && user.is_verified());
    assert_eq!(
        created.stdout,
        format!("superuser {} ready (id {})\n", user.email, user.id)
    );

    // Again with the same password (CRLF line ends, no final newline): idempotent.
    let again = warden(
        dir.path(),
        &args,
        Some("admin-password-1\r\nadmin-password-1"),
    );
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.stdout, created.stdout);

    // Someone else's password does not take over the account.
    let stranger = warden(
        dir.path(),
        &args,
        Some("other-password-1\nother-password-1\n"),
    );
    assert_eq!(stranger.code, 1, "{stranger:?}");
    assert!(
        stranger.stderr.contains("the password given is not theirs"),
        "{stranger:?}"
    );
}

#[tokio::test]
async fn create_superuser_refuses_differing_or_missing_passwords() {
    let dir = TempDir::new().unwrap();
    let url = sqlite_url(&dir);
    let args = [
        "create-superuser",
        "--email",
        "root@example.com",
        "--database-url",
        &url,
    ];
    for (stdin, message) in [
        (
            Some("admin-password-1\nadmin-password-2\n"),
            "the two passwords differ",
        ),
        (
            Some("admin-password-1\n"),
            "give the password on its first line and again on its second",
        ),
        (
            None,
            "give the password on its first line and again on its second",
        ),
        (Some("short\nshort\n"), "Password should be at least"),
    ] {
        let run = warden(dir.path(), &args, stdin);
        assert_eq!(run.code, 1, "{run:?}");
        assert_eq!(run.stdout, "");
        assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
        assert!(run.stderr.contains(message), "{message}: {run:?}");
    }
    assert!(user_by_email(&url, "root@example.com").await.is_none());

    let bad_email = warden(
        dir.path(),
        &[
            "create-superuser",
            "--email",
            "root",
            "--database-url",
            &url,
        ],
        Some("admin-password-1\nadmin-password-1\n"),
    );
    assert_eq!(bad_email.code, 1, "{bad_email:?}");
    assert!(
        bad_email
            .stderr
            .starts_with("error: --email: value is not a valid email address")
    );

    let no_email = warden(dir.path(), &["create-superuser"], None);
    assert_eq!(no_email.code, 2, "{no_email:?}");
}

/// Issues a token with `strategy` and verifies it back.
fn round_trip(strategy: &JwtStrategy) {
    let token = strategy.issue("user-1").unwrap();
    assert_eq!(strategy.verify(&token).unwrap().sub, "user-1");
}

#[test]
fn keygen_prints_hmac_secrets_warden_accepts() {
    let dir = TempDir::new().unwrap();
    for (name, algorithm) in [
        ("HS256", Algorithm::HS256),
        ("HS384", Algorithm::HS384),
        ("HS512", Algorithm::HS512),
    ] {
        let run = warden(dir.path(), &["keygen", "--algorithm", name], None);
        assert_eq!(run.code, 0, "{run:?}");
        let secret = run.stdout.strip_suffix('\n').unwrap();
        assert!(
            secret.len() >= algorithm.min_secret_len(),
            "{name}: {secret}"
        );
        assert!(
            secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "shell-safe: {secret}"
        );
        let strategy = JwtStrategy::builder(Secret::from(secret), Lifetime::Seconds(60))
            .algorithm(algorithm)
            .build()
            .unwrap();
        round_trip(&strategy);
    }
    let default = warden(dir.path(), &["keygen"], None);
    assert_eq!(default.code, 0, "{default:?}");
    assert_eq!(default.stdout.trim_end().len(), 43, "32 bytes of base64");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no files for HS*"
    );

    let with_out = warden(dir.path(), &["keygen", "--out", "keys"], None);
    assert_eq!(with_out.code, 1, "{with_out:?}");
    assert!(with_out.stderr.contains("drop --out"), "{with_out:?}");
}

/// Runs `warden keygen --algorithm name --out out` in `dir`, checks the output and
/// the files, and returns the private and public PEM.
fn key_pair(dir: &Path, name: &str, out: &str) -> (Vec<u8>, Vec<u8>) {
    let run = warden(dir, &["keygen", "--algorithm", name, "--out", out], None);
    assert_eq!(run.code, 0, "{run:?}");
    let private = format!("{out}/private.pem");
    let public = format!("{out}/public.pem");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{run:?}");
    assert!(
        lines[0].contains(&private) && lines[1].contains(&public),
        "{run:?}"
    );
    assert_eq!(
        lines[2],
        format!(
            "#[auth_backend(lifetime = 3600, algorithm = \"{name}\", secret = file(\"{private}\"), public_key = file(\"{public}\"))]"
        )
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(&private))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the private key is the owner's only");
    }
    let private = std::fs::read(dir.join(private)).unwrap();
    let public = std::fs::read(dir.join(public)).unwrap();
    assert!(private.starts_with(b"-----BEGIN PRIVATE KEY-----\n"));
    assert!(public.starts_with(b"-----BEGIN PUBLIC KEY-----\n"));
    (private, public)
}

fn strategy(algorithm: Algorithm, private: &[u8], public: &[u8]) -> JwtStrategy {
    JwtStrategy::builder(Secret::from(private.to_vec()), Lifetime::Seconds(60))
        .algorithm(algorithm)
        .public_key(public.to_vec())
        .build()
        .unwrap_or_else(|error| panic!("{algorithm}: {error}"))
}

#[test]
fn keygen_writes_rsa_keys_for_rs_and_ps() {
    let dir = TempDir::new().unwrap();
    // One 3072-bit key serves all six RSA algorithms.
    let (private, public) = key_pair(dir.path(), "PS384", "keys/rsa");
    for algorithm in [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ] {
        round_trip(&strategy(algorithm, &private, &public));
    }
}

#[test]
fn keygen_writes_ec_and_ed25519_keys() {
    let dir = TempDir::new().unwrap();
    for (name, algorithm) in [
        ("ES256", Algorithm::ES256),
        ("ES384", Algorithm::ES384),
        ("EdDSA", Algorithm::EdDSA),
    ] {
        let (private, public) = key_pair(dir.path(), name, name);
        round_trip(&strategy(algorithm, &private, &public));
    }
    // The default directory.
    let run = warden(dir.path(), &["keygen", "--algorithm", "ES256"], None);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(dir.path().join("keys/private.pem").exists());
    assert!(dir.path().join("keys/public.pem").exists());
}

#[test]
fn keygen_never_overwrites() {
    let dir = TempDir::new().unwrap();
    let (private, public) = key_pair(dir.path(), "EdDSA", "keys");
    let run = warden(
        dir.path(),
        &["keygen", "--algorithm", "ES256", "--out", "keys"],
        None,
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: keys/private.pem exists; keygen never overwrites keys: move it away or pick another --out\n"
    );
    assert_eq!(
        std::fs::read(dir.path().join("keys/private.pem")).unwrap(),
        private
    );
    assert_eq!(
        std::fs::read(dir.path().join("keys/public.pem")).unwrap(),
        public
    );

    // A lone public key is not overwritten either.
    std::fs::remove_file(dir.path().join("keys/private.pem")).unwrap();
    let run = warden(
        dir.path(),
        &["keygen", "--algorithm", "ES256", "--out", "keys"],
        None,
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.starts_with("error: keys/public.pem exists"),
        "{run:?}"
    );
    assert!(!dir.path().join("keys/private.pem").exists());
}

#[test]
fn keygen_names_the_algorithm_meant() {
    let dir = TempDir::new().unwrap();
    let run = warden(dir.path(), &["keygen", "--algorithm", "hs256"], None);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("did you mean \"HS256\"?"), "{run:?}");
    assert!(
        run.stderr
            .contains("expected one of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA"),
        "{run:?}"
    );
    let run = warden(dir.path(), &["keygen", "--algorithm", "none"], None);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("never allowed"), "{run:?}");
}

// ---------------------------------------------------------------------------------
// `warden 2fa reset`
// ---------------------------------------------------------------------------------

#[warden::auth_backend(
    name = "jwt",
    lifetime = 3600,
    secret = "cli-two-factor-jwt-secret-of-32-bytes!!"
)]
struct Jwt;

const TWO_FACTOR_SECRET: &str = "cli-two-factor-secret-of-at-least-32-bytes";
const PASSWORD: &str = "cli-password-1";

/// A warden on the SQLite database at `url` with TOTP, on `clock`: its router.
async fn two_factor_app(url: &str, clock: &warden::Clock) -> axum::Router {
    let warden: warden::Warden = warden::Warden::builder()
        .clock(clock.clone())
        .store(SqliteStore::<User>::open(url).await.unwrap())
        .backend::<Jwt>()
        .unwrap()
        .two_factor(warden::second_factor::TwoFactor::totp("CLI test").secret(TWO_FACTOR_SECRET))
        .build()
        .unwrap();
    warden.routes().with_state(warden)
}

/// One request through `app`: status and JSON body (`null` when empty).
async fn call(
    app: &axum::Router,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, String)>,
) -> (u16, serde_json::Value) {
    use tower::ServiceExt;
    let mut request = axum::http::Request::builder()
        .method(if body.is_some() || path.starts_with("/users/me/2fa/") {
            "POST"
        } else {
            "GET"
        })
        .uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = match body {
        Some((content_type, body)) => request
            .header("content-type", content_type)
            .body(axum::body::Body::from(body)),
        None => request.body(axum::body::Body::empty()),
    }
    .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let json = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, json)
}

fn json_body(value: serde_json::Value) -> Option<(&'static str, String)> {
    Some(("application/json", value.to_string()))
}

async fn login(app: &axum::Router) -> (u16, serde_json::Value) {
    call(
        app,
        "/auth/jwt/login",
        None,
        Some((
            "application/x-www-form-urlencoded",
            format!("username=ada%40example.com&password={PASSWORD}"),
        )),
    )
    .await
}

#[tokio::test]
async fn two_factor_reset_turns_it_off_and_ends_the_users_sessions() {
    let dir = TempDir::new().unwrap();
    let url = sqlite_url(&dir);
    // Behind the system clock, which the command's cut-off reads: every token here
    // is issued before it.
    let clock =
        warden::Clock::manual(std::time::UNIX_EPOCH.elapsed().unwrap().as_secs() as i64 - 600);
    let app = two_factor_app(&url, &clock).await;
    let (status, body) = call(
        &app,
        "/auth/register",
        None,
        json_body(serde_json::json!({"email": "ada@example.com", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = login(&app).await;
    assert_eq!(status, 200, "{body}");
    let before = body["access_token"].as_str().unwrap().to_owned();
    let (status, body) = call(&app, "/users/me/2fa/totp", Some(&before), None).await;
    assert_eq!(status, 200, "{body}");
    let secret = body["secret"].as_str().unwrap().to_owned();
    clock.advance(30);
    let code = totp::code(&secret, clock.now());
    let (status, body) = call(
        &app,
        "/users/me/2fa/totp/confirm",
        Some(&before),
        json_body(serde_json::json!({ "code": code })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // On: a login is challenged, and the second step signs in.
    let (status, body) = login(&app).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["detail"], "LOGIN_2FA_REQUIRED");
    clock.advance(30);
    let code = totp::code(&secret, clock.now());
    let (status, body) = call(
        &app,
        "/auth/jwt/login/2fa",
        None,
        json_body(serde_json::json!({"mfa_token": body["mfa_token"], "code": code})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let passed = body["access_token"].as_str().unwrap().to_owned();
    for token in [&before, &passed] {
        let (status, body) = call(&app, "/users/me", Some(token), None).await;
        assert_eq!(status, 200, "{body}");
    }

    let run = warden(
        dir.path(),
        &[
            "2fa",
            "reset",
            "--email",
            "ada@Example.COM",
            "--database-url",
            &url,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    let user = user_by_email(&url, "ada@example.com").await.unwrap();
    assert_eq!(
        run.stdout,
        format!(
            "two-factor authentication turned off for ada@example.com (id {}); their sessions ended on every instance\n",
            user.id
        )
    );
    assert_eq!(run.stderr, "");

    // A warden on the same database: the tokens issued before are refused, and a
    // password alone signs in.
    let app = two_factor_app(&url, &clock).await;
    for token in [&before, &passed] {
        let (status, body) = call(&app, "/users/me", Some(token), None).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body, serde_json::json!({"detail": "Unauthorized"}));
    }
    let (status, body) = login(&app).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let (status, body) = call(&app, "/users/me/2fa", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["enabled"], false, "{body}");
    assert_eq!(body["recovery_codes_left"], 0, "{body}");

    // Again: it was off.
    let again = warden(
        dir.path(),
        &[
            "2fa",
            "reset",
            "--email",
            "ada@example.com",
            "--database-url",
            &url,
        ],
        None,
    );
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again
            .stdout
            .starts_with("two-factor authentication was off for ada@example.com"),
        "{again:?}"
    );
}

#[tokio::test]
async fn two_factor_reset_names_an_unknown_login_in_one_line() {
    let dir = TempDir::new().unwrap();
    let url = sqlite_url(&dir);
    SqliteStore::<User>::open(&url)
        .await
        .unwrap()
        .pool()
        .close()
        .await;
    let run = warden(
        dir.path(),
        &[
            "2fa",
            "reset",
            "--email",
            "nobody@example.com",
            "--database-url",
            &url,
        ],
        None,
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: no user logs in as \"nobody@example.com\"\n"
    );

    // The stock model logs in with its e-mail: `--username` is refused, in one line.
    // (A `login = username` model needs a binary of its own, `warden_cli::run::<M>()`,
    // which this test drives not.)
    let run = warden(
        dir.path(),
        &["2fa", "reset", "--username", "ada", "--database-url", &url],
        None,
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.starts_with("error: --email: "), "{run:?}");
}

/// `warden users list|ban|unban` on the database a running instance reads: the
/// ban is the instance's manager's ban (its sign-in step reads the same row), a
/// superuser is never banned, and the list shows flags and bans.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_ban_unban_and_list_reach_the_running_instance() {
    let dir = TempDir::new().unwrap();
    let url = sqlite_url(&dir);
    let created = warden(
        dir.path(),
        &[
            "create-superuser",
            "--email",
            "root@example.com",
            "--database-url",
            &url,
        ],
        Some("admin-password-1\nadmin-password-1\n"),
    );
    assert_eq!(created.code, 0, "{created:?}");
    // The running instance, on the same file.
    let store = SqliteStore::<User>::open(&url).await.unwrap();
    let instance: warden::Warden = warden::Warden::builder()
        .store(store.clone())
        .strategy(
            "jwt",
            JwtStrategy::builder(
                "cli-test-secret-of-at-least-32-bytes!",
                Lifetime::Seconds(60),
            )
            .build()
            .unwrap(),
        )
        .build()
        .unwrap();
    let ann = instance
        .manager()
        .register(warden::UserCreate::new("ann-password-1", ()).with_email("ann@example.com"))
        .await
        .unwrap();

    let banned = warden(
        dir.path(),
        &[
            "users",
            "ban",
            "--email",
            "Ann@example.com",
            "--days",
            "2",
            "--reason",
            "spam",
            "--database-url",
            &url,
        ],
        None,
    );
    assert_eq!(banned.code, 0, "{banned:?}");
    assert!(
        banned
            .stdout
            .starts_with(&format!("banned ann@example.com (id {}) until ", ann.id)),
        "{banned:?}"
    );
    let ban = instance.manager().banned(&ann).await.unwrap().unwrap();
    assert_eq!(ban.reason.as_deref(), Some("spam"));
    let days = ban.until.unwrap() - ban.created_at;
    assert_eq!(days, 2 * 86_400);

    let listed = warden(dir.path(), &["users", "list", "--database-url", &url], None);
    assert_eq!(listed.code, 0, "{listed:?}");
    let lines: Vec<&str> = listed.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{listed:?}");
    let ann_line = lines
        .iter()
        .find(|line| line.contains("ann@example.com"))
        .unwrap();
    assert!(
        ann_line.starts_with(&format!(
            "{}\tann@example.com\tactive\tbanned until ",
            ann.id
        )),
        "{ann_line}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.ends_with("root@example.com\tactive,verified,superuser")),
        "{listed:?}"
    );
    let only = warden(
        dir.path(),
        &["users", "list", "--email", "RO", "--database-url", &url],
        None,
    );
    assert_eq!(only.stdout.lines().count(), 1, "{only:?}");

    // A superuser is never banned; nobody is nobody; a past end is refused.
    let root = warden(
        dir.path(),
        &[
            "users",
            "ban",
            "--email",
            "root@example.com",
            "--database-url",
            &url,
        ],
        None,
    );
    assert_eq!(root.code, 1, "{root:?}");
    assert!(
        root.stderr.contains("a superuser is never banned"),
        "{root:?}"
    );
    let nobody = warden(
        dir.path(),
        &[
            "users",
            "ban",
            "--email",
            "nobody@example.com",
            "--database-url",
            &url,
        ],
        None,
    );
    assert_eq!(nobody.code, 1, "{nobody:?}");
    let past = warden(
        dir.path(),
        &[
            "users",
            "ban",
            "--email",
            "ann@example.com",
            "--until",
            "2001-01-01T00:00:00Z",
            "--database-url",
            &url,
        ],
        None,
    );
    assert_eq!(past.code, 1, "{past:?}");
    assert!(past.stderr.contains("in the future"), "{past:?}");

    let unbanned = warden(
        dir.path(),
        &[
            "users",
            "unban",
            "--email",
            "ann@example.com",
            "--database-url",
            &url,
        ],
        None,
    );
    assert_eq!(unbanned.code, 0, "{unbanned:?}");
    assert_eq!(
        unbanned.stdout,
        format!("unbanned ann@example.com (id {})\n", ann.id)
    );
    assert!(instance.manager().banned(&ann).await.unwrap().is_none());
    store.pool().close().await;
}
