//! `warden create-superuser`: an active, verified superuser, with a password that
//! never appears in arguments, the environment or the terminal.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

use clap::Args;
use warden::runtime::user::{check_username, normalize_email};
use warden::{DefaultEvents, PasswordHasher, UserCreate, UserManager, UserModel, UserStore};

use crate::database::{self, DatabaseArgs};
use crate::{Failure, say};

/// Who becomes superuser.
#[derive(Debug, Args)]
#[group(id = "who", required = true, multiple = true)]
pub(crate) struct SuperuserArgs {
    /// The superuser's e-mail address (their login, unless the model logs in with a username)
    #[arg(long, value_name = "EMAIL", group = "who")]
    email: Option<String>,
    /// The superuser's username, for a model declared with `login = username`
    #[arg(long, value_name = "NAME", group = "who")]
    username: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// The login the arguments give for model `U` (its e-mail, or its username), checked,
/// before the password is typed.
fn login<U: UserModel>(args: &SuperuserArgs) -> Result<String, Failure> {
    login_of::<U>(args.email.as_ref(), args.username.as_ref())
}

/// The login `--email` and `--username` give for model `U` (its e-mail, or its
/// username), checked.
pub(crate) fn login_of<U: UserModel>(
    email: Option<&String>,
    username: Option<&String>,
) -> Result<String, Failure> {
    let email = match (email, U::HAS_EMAIL) {
        (Some(email), true) => Some(
            normalize_email(email).map_err(|reason| Failure::new(format!("--email: {reason}")))?,
        ),
        (Some(_), false) => {
            return Err(Failure::new(format!(
                "--email: {} has no e-mail: give only --username",
                U::NAME
            )));
        }
        (None, true) => {
            return Err(Failure::new(format!(
                "--email: {} users have an e-mail: give --email",
                U::NAME
            )));
        }
        (None, false) => None,
    };
    if U::LOGIN == "email" {
        if username.is_some() {
            return Err(Failure::new(format!(
                "--username: {} users log in with their e-mail: give only --email",
                U::NAME
            )));
        }
        return email.ok_or_else(|| Failure::new("--email: give the superuser's e-mail"));
    }
    let username = username.cloned().ok_or_else(|| {
        Failure::new(format!(
            "--username: {} users log in with a {}: give --username",
            U::NAME,
            U::LOGIN
        ))
    })?;
    check_username(&username).map_err(|reason| Failure::new(format!("--username: {reason}")))?;
    Ok(username)
}

/// `warden create-superuser`.
pub(crate) async fn run<U: UserModel>(
    args: &SuperuserArgs,
    extra: impl FnOnce(&str) -> U::Create,
) -> Result<(), Failure> {
    // Cheap mistakes first, before the password is typed.
    let login = login::<U>(args)?;
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
        .ensure_superuser_with(UserCreate {
            email: args.email.clone(),
            ..UserCreate::new(password, extra(&login))
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[warden::user_model(login = username)]
    pub struct Player {
        pub username: String,
    }

    #[warden::user_model(login = username, email)]
    pub struct Staff {
        pub username: String,
    }

    fn args(email: Option<&str>, username: Option<&str>) -> SuperuserArgs {
        SuperuserArgs {
            email: email.map(str::to_owned),
            username: username.map(str::to_owned),
            database: DatabaseArgs::default(),
        }
    }

    fn refusal<U: UserModel>(email: Option<&str>, username: Option<&str>) -> String {
        login::<U>(&args(email, username)).unwrap_err().0.join("\n")
    }

    #[test]
    fn the_login_comes_from_the_argument_the_model_logs_in_with() {
        assert_eq!(
            login::<warden::User>(&args(Some("Root@Example.COM"), None)).unwrap(),
            "Root@example.com"
        );
        assert_eq!(
            refusal::<warden::User>(Some("root@example.com"), Some("root")),
            "--username: User users log in with their e-mail: give only --email"
        );
        assert_eq!(login::<Player>(&args(None, Some("Root"))).unwrap(), "Root");
        assert_eq!(
            refusal::<Player>(Some("root@example.com"), Some("root")),
            "--email: Player has no e-mail: give only --username"
        );
        assert_eq!(
            refusal::<Player>(None, Some("root admin")),
            "--username: A username has only letters a-z, digits, '.', '_' and '-'"
        );
        assert_eq!(
            refusal::<Staff>(None, Some("root")),
            "--email: Staff users have an e-mail: give --email"
        );
        assert_eq!(
            login::<Staff>(&args(Some("root@example.com"), Some("root"))).unwrap(),
            "root"
        );
        assert_eq!(
            refusal::<Staff>(Some("root@example.com"), None),
            "--username: Staff users log in with a username: give --username"
        );
    }
}
