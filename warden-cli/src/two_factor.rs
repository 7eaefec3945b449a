//! `warden 2fa reset`: turns a user's second factor off (a user who lost both the
//! authenticator app and the recovery codes) and ends every session of theirs, so
//! the running instances refuse their tokens: the same as a superuser's
//! `DELETE /users/{id}/2fa`, from the server.

use clap::{Args, Subcommand};
use warden::{UserModel, UserStore};

use crate::database::{self, DatabaseArgs};
use crate::superuser::login_of;
use crate::{Failure, say};

/// `warden 2fa ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum TwoFactorCommand {
    /// Turn a user's second factor off and end their sessions on every instance.
    Reset(ResetArgs),
}

/// Whose second factor.
#[derive(Debug, Args)]
#[group(id = "who", required = true, multiple = true)]
pub(crate) struct ResetArgs {
    /// The user's e-mail address
    #[arg(long, value_name = "EMAIL", group = "who")]
    email: Option<String>,
    /// The user's username, for a model declared with `login = username`
    #[arg(long, value_name = "NAME", group = "who")]
    username: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// Runs `warden 2fa ...`.
pub(crate) async fn run<U: UserModel>(command: &TwoFactorCommand) -> Result<(), Failure> {
    match command {
        TwoFactorCommand::Reset(args) => reset::<U>(args).await,
    }
}

async fn reset<U: UserModel>(args: &ResetArgs) -> Result<(), Failure> {
    let login = login_of::<U>(args.email.as_ref(), args.username.as_ref())?;
    let url = args.database.url();
    let store = database::open::<U>(&url).await?;
    let result = reset_in(&store, &login).await;
    database::close(store).await;
    let (id, was_on) = result.map_err(|failure| match failure {
        Reset::NoUser => Failure::new(format!("no user logs in as {login:?}")),
        Reset::Store(error) => database::store_failure(&error, &url),
    })?;
    say(&format!(
        "{} for {login} (id {id}); their sessions ended on every instance",
        if was_on {
            "two-factor authentication turned off"
        } else {
            "two-factor authentication was off"
        }
    ))
}

/// Why a reset failed.
enum Reset {
    NoUser,
    Store(warden::StoreError),
}

impl From<warden::StoreError> for Reset {
    fn from(error: warden::StoreError) -> Self {
        Self::Store(error)
    }
}

/// Turns the second factor of the user who logs in as `login` off, forgets their
/// remembered devices and ends their sessions: their id and whether it was on.
async fn reset_in<U: UserModel>(
    store: &warden::DatabaseStore<U>,
    login: &str,
) -> Result<(String, bool), Reset> {
    let user = store.get_by_login(login).await?.ok_or(Reset::NoUser)?;
    let id = user.id().to_string();
    let now = time_now();
    let was_on = match store.two_factor() {
        Some(two_factor) => {
            let was_on = two_factor.disable(&id).await?;
            two_factor.set_devices_trusted_after(&id, now).await?;
            was_on
        }
        None => false,
    };
    // The cut-off ends every token and refresh token of theirs; on PostgreSQL the
    // running instances are told in the same statement.
    if let Some(sessions) = store.sessions() {
        sessions.end_user(&id, now).await?;
    }
    Ok((id, was_on))
}

/// Now, in Unix seconds.
fn time_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}
