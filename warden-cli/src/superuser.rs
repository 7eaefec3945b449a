//! `warden create-superuser`: an active, verified superuser, with a password that
//! never appears in arguments, the environment or the terminal.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

use clap::Args;
use warden::runtime::user::normalize_email;
use warden::{DefaultEvents, PasswordHasher, UserCreate, UserManager, UserModel, UserStore};

use crate::database::{self, DatabaseArgs};
use crate::{Failure, say};

/// Who becomes superuser.
#[derive(Debug, Args)]
pub(crate) struct SuperuserArgs {
    /// The superuser's e-mail address
    #[arg(long, value_name = "EMAIL")]
    email: String,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// `warden create-superuser`.
pub(crate) async fn run<U: UserModel>(
    args: &SuperuserArgs,
    extra: impl FnOnce() -> U::Create,
) -> Result<(), Failure> {
    // Cheap mistakes first, before the password is typed.
    normalize_email(&args.email).map_err(|reason| Failure::new(format!("--email: {reason}")))?;
    let url = args.database.url();
    let store = database::open::<U>(&url).await?;
    let password = read_password()?;
    let hasher = PasswordHasher::new().map_err(|error| Failure::new(error.to_string()))?;
    let manager = UserManager::new(
        Arc::new(store.clone()) as Arc<dyn UserStore<U>>,
        hasher,
        Arc::new(DefaultEvents),
    );
    let result = manager
        .ensure_superuser_with(UserCreate::new(password, extra()).with_email(&args.email))
        .await;
    drop(manager);
    database::close(store).await;
    let user =
        result.map_err(|error| Failure::new(database::hide_url(&error.to_string(), &url)))?;
    say(&format!(
        "superuser {} ready (id {})",
        user.login(),
        user.id()
    ))
}

/// The password, entered twice: on the terminal without echo, or from the first two
/// lines of stdin when stdin is not a terminal.
fn read_password() -> Result<String, Failure> {
    let (password, again) = if std::io::stdin().is_terminal() {
        let prompt = |text: &str| {
            rpassword::prompt_password(text)
                .map_err(|error| Failure::new(format!("cannot read the password: {error}")))
        };
        (prompt("Password: ")?, prompt("Password (again): ")?)
    } else {
        let mut lines = std::io::stdin().lock().lines();
        let mut next = || -> Result<Option<String>, Failure> {
            lines
                .next()
                .transpose()
                .map_err(|error| {
                    Failure::new(format!("cannot read the password from stdin: {error}"))
                })
                .map(|line| line.map(|line| line.trim_end_matches('\r').to_owned()))
        };
        match (next()?, next()?) {
            (Some(password), Some(again)) => (password, again),
            _ => {
                return Err(Failure::new(
                    "stdin is not a terminal: give the password on its first line and again on its second",
                ));
            }
        }
    };
    if password != again {
        return Err(Failure::new(
            "the two passwords differ: run the command again and type the same password twice",
        ));
    }
    if password.is_empty() {
        return Err(Failure::new("the password is empty: choose one"));
    }
    Ok(password)
}
