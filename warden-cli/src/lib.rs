//! # warden-cli
//!
//! The `warden` command, for operators of an application built on [warden]:
//!
//! | command | what it does |
//! | --- | --- |
//! | `warden migrate [--database-url URL]` | creates the user table, or checks the existing one |
//! | `warden check [--database-url URL]` | checks the user table without changing anything; exit 1 on a mismatch |
//! | `warden create-superuser --email E [--username U] [--database-url URL]` | creates an active, verified superuser, or promotes the user who owns the password; `--username` for a model that logs in with one |
//! | `warden keygen [--algorithm ALG] [--out DIR]` | prints an HMAC secret, or writes a PEM key pair |
//! | `warden 2fa reset --email E [--username U] [--database-url URL]` | turns a user's second factor off and ends their sessions on every instance |
//! | `warden users list [--email PREFIX] [--limit N] [--database-url URL]` | one line per user in id order: id, login, flags, ban |
//! | `warden users ban --email E [--username U] [--until TIME \| --days N] [--reason TEXT] [--database-url URL]` | bans a user (never a superuser) until a time or until unbanned, and ends their sessions on every instance |
//! | `warden users unban --email E [--username U] [--database-url URL]` | lifts a user's ban |
//!
//! The database URL is `--database-url`, else the environment variable
//! `WARDEN_DATABASE_URL`, else `sqlite://warden.db`. Errors are printed on stderr,
//! one line each, and exit with code 1; usage errors exit with code 2.
//!
//! `create-superuser` asks for the password twice on the terminal, without echo.
//! When stdin is not a terminal it reads the password from the first line of stdin
//! and its confirmation from the second, so scripts can pipe both; it never takes
//! the password from an argument or the environment.
//!
//! The `warden` binary works on the stock [`warden::User`]. An application with its
//! own `#[user_model]` gets the same commands, on its own table, from a binary of its
//! own:
//!
//! ```no_run
//! // src/bin/admin.rs
//! use std::process::ExitCode;
//!
//! #[warden::user_model]
//! pub struct Member {
//!     #[user(read, update)]
//!     pub nickname: Option<String>,
//! }
//!
//! fn main() -> ExitCode {
//!     warden_cli::run::<Member>()
//! }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod database;
mod keygen;
mod superuser;
mod two_factor;
mod users;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use warden::UserModel;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "warden",
    version,
    about = "Operate a warden application: its user table, its superusers, its signing keys."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the user table, or check that the existing one fits the user model.
    Migrate(database::DatabaseArgs),
    /// Check that the user table fits the user model, without changing anything.
    Check(database::DatabaseArgs),
    /// Create an active, verified superuser, or promote the user whose password is given.
    ///
    /// The password is asked twice on the terminal, without echo. When stdin is not
    /// a terminal, its first line is the password and its second the confirmation.
    CreateSuperuser(superuser::SuperuserArgs),
    /// Generate a signing secret (HS*) or a PEM key pair (RS*, PS*, ES*, EdDSA).
    Keygen(keygen::KeygenArgs),
    /// Manage users' second factors.
    #[command(name = "2fa", subcommand)]
    TwoFactor(two_factor::TwoFactorCommand),
    /// List users, ban and unban them.
    #[command(subcommand)]
    Users(users::UsersCommand),
}

/// Runs the `warden` command line for user model `U`: parses the arguments, runs the
/// command, prints errors on stderr. Returns the exit code for `main` to return.
///
/// `create-superuser` creates the user with `U::Create::default()` as its extra
/// fields; for a model whose registration needs values, use [`run_with`].
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     warden_cli::run::<warden::User>()
/// }
/// ```
pub fn run<U>() -> ExitCode
where
    U: UserModel,
    U::Create: Default,
{
    run_with::<U>(|_| U::Create::default())
}

/// [`run`] for a model whose registration needs extra fields: `create-superuser`
/// calls `extra` with the login given (`--email`, or `--username` for a model that
/// logs in with one) for the values of a user it creates (an existing user it
/// promotes keeps theirs).
///
/// ```no_run
/// #[warden::user_model]
/// pub struct Member {
///     #[user(read, create, update)]
///     pub first_name: String,
/// }
///
/// fn main() -> std::process::ExitCode {
///     warden_cli::run_with::<Member>(|_| MemberCreate { first_name: "Admin".into() })
/// }
/// ```
///
/// A model that logs in with a username puts the login in its own field:
///
/// ```no_run
/// #[warden::user_model(login = username)]
/// pub struct Player {
///     pub username: String,
/// }
///
/// fn main() -> std::process::ExitCode {
///     // warden create-superuser --username root
///     warden_cli::run_with::<Player>(|login| PlayerCreate { username: login.to_owned() })
/// }
/// ```
pub fn run_with<U: UserModel>(extra: impl FnOnce(&str) -> U::Create) -> ExitCode {
    let cli = Cli::parse();
    match execute::<U>(cli.command, extra) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            failure.report();
            ExitCode::FAILURE
        }
    }
}

fn execute<U: UserModel>(
    command: Command,
    extra: impl FnOnce(&str) -> U::Create,
) -> Result<(), Failure> {
    match command {
        Command::Keygen(args) => keygen::run(&args),
        Command::Migrate(args) => block_on(database::migrate::<U>(&args.url())),
        Command::Check(args) => block_on(database::check::<U>(&args.url())),
        Command::CreateSuperuser(args) => block_on(superuser::run::<U>(&args, extra)),
        Command::TwoFactor(command) => block_on(two_factor::run::<U>(&command)),
        Command::Users(command) => block_on(users::run::<U>(&command)),
    }
}

/// Runs a database command on a runtime of its own.
fn block_on<F: Future<Output = Result<(), Failure>>>(future: F) -> Result<(), Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::new(format!("cannot start the async runtime: {error}")))?
        .block_on(future)
}

/// Why a command failed: one or more lines, each printed as `error: <line>`.
#[derive(Debug)]
struct Failure(Vec<String>);

impl Failure {
    /// A failure; a message of several lines prints as several errors.
    fn new(message: impl AsRef<str>) -> Self {
        let lines: Vec<String> = message.as_ref().lines().map(str::to_owned).collect();
        if lines.is_empty() {
            return Self(vec!["failed without saying why".to_owned()]);
        }
        Self(lines)
    }

    /// One failure per problem.
    fn lines(lines: Vec<String>) -> Self {
        Self(lines)
    }

    fn report(&self) {
        let mut stderr = std::io::stderr().lock();
        for line in &self.0 {
            // Nothing to do if stderr itself is gone.
            let _ = writeln!(stderr, "error: {line}");
        }
    }
}

/// Prints one line on stdout; a closed stdout is an error, not a panic.
fn say(line: &str) -> Result<(), Failure> {
    writeln!(std::io::stdout().lock(), "{line}")
        .map_err(|error| Failure::new(format!("cannot write to stdout: {error}")))
}
