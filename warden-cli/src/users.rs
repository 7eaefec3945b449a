//! `warden users list|ban|unban`: the admin routes' user list and bans, from the
//! server. A ban is written to warden's `warden_ban` table, which every running
//! instance's sign-in step reads, and ends the user's sessions with a cut-off
//! (on PostgreSQL the instances are told in the same statement): it reaches them
//! all at once, as `POST /users/{id}/ban` does.

use clap::{Args, Subcommand};
use warden::runtime::store::{Ban, MAX_BAN_REASON, UserFilter};
use warden::{UserModel, UserStore};

use crate::database::{self, DatabaseArgs};
use crate::superuser::login_of;
use crate::{Failure, say};

/// `warden users ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum UsersCommand {
    /// List users in id order, with their flags and bans.
    List(ListArgs),
    /// Ban a user until a time, or until unbanned; end their sessions on every instance.
    Ban(BanArgs),
    /// Lift a user's ban.
    Unban(WhoArgs),
}

/// Which users.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only e-mails starting with this (case-insensitively)
    #[arg(long, value_name = "PREFIX")]
    email: Option<String>,
    /// At most this many users
    #[arg(long, value_name = "N", default_value_t = 50)]
    limit: usize,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// Whom.
#[derive(Debug, Args)]
#[group(id = "who", required = true, multiple = true)]
pub(crate) struct WhoArgs {
    /// The user's e-mail address
    #[arg(long, value_name = "EMAIL", group = "who")]
    email: Option<String>,
    /// The user's username, for a model declared with `login = username`
    #[arg(long, value_name = "NAME", group = "who")]
    username: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// Whom, until when, why.
#[derive(Debug, Args)]
pub(crate) struct BanArgs {
    #[command(flatten)]
    who: WhoArgs,
    /// When the ban ends by itself (RFC 3339, e.g. 2030-01-01T00:00:00Z); without
    /// it or --days, the ban holds until `warden users unban`
    #[arg(long, value_name = "TIME", conflicts_with = "days")]
    until: Option<String>,
    /// The ban ends by itself after this many days
    #[arg(long, value_name = "N")]
    days: Option<u32>,
    /// Why, for operators (never shown to the user)
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
}

/// Runs `warden users ...`.
pub(crate) async fn run<U: UserModel>(command: &UsersCommand) -> Result<(), Failure> {
    match command {
        UsersCommand::List(args) => list::<U>(args).await,
        UsersCommand::Ban(args) => ban::<U>(args).await,
        UsersCommand::Unban(args) => unban::<U>(args).await,
    }
}

async fn list<U: UserModel>(args: &ListArgs) -> Result<(), Failure> {
    if args.limit == 0 {
        return Err(Failure::new("--limit: give at least 1"));
    }
    let url = args.database.url();
    let store = database::open::<U>(&url).await?;
    let result = list_in(&store, args).await;
    database::close(store).await;
    let lines = result.map_err(|error| database::store_failure(&error, &url))?;
    for line in lines {
        say(&line)?;
    }
    Ok(())
}

/// One line per user: id, login, flags, ban.
async fn list_in<U: UserModel>(
    store: &warden::DatabaseStore<U>,
    args: &ListArgs,
) -> Result<Vec<String>, warden::StoreError> {
    let mut filter = UserFilter::default();
    if let Some(prefix) = &args.email {
        filter = filter.email_prefix(prefix);
    }
    let users = store.list(&filter, None, args.limit).await?;
    let now = time_now();
    let mut lines = Vec::with_capacity(users.len());
    for user in users {
        let id = user.id().to_string();
        let mut flags = Vec::new();
        for (on, word) in [
            (user.is_active(), "active"),
            (!user.is_active(), "inactive"),
            (user.is_verified(), "verified"),
            (user.is_superuser(), "superuser"),
        ] {
            if on {
                flags.push(word);
            }
        }
        let ban = match store.bans() {
            Some(bans) => bans.get(&id).await?.filter(|ban| ban.is_active(now)),
            None => None,
        };
        let ban = match ban {
            None => String::new(),
            Some(Ban { until: None, .. }) => "\tbanned".to_owned(),
            Some(Ban {
                until: Some(until), ..
            }) => format!("\tbanned until {}", rfc3339(until)),
        };
        lines.push(format!("{id}\t{}\t{}{ban}", user.login(), flags.join(",")));
    }
    Ok(lines)
}

async fn ban<U: UserModel>(args: &BanArgs) -> Result<(), Failure> {
    let login = login_of::<U>(args.who.email.as_ref(), args.who.username.as_ref())?;
    let now = time_now();
    let until = match (&args.until, args.days) {
        (Some(text), _) => {
            let at =
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .map_err(|_| {
                        Failure::new(format!(
                            "--until: {text:?} is not an RFC 3339 time such as 2030-01-01T00:00:00Z"
                        ))
                    })?
                    .unix_timestamp();
            if at <= now {
                return Err(Failure::new("--until: the ban's end must be in the future"));
            }
            Some(at)
        }
        (None, Some(0)) => return Err(Failure::new("--days: give at least 1")),
        (None, Some(days)) => Some(now.saturating_add(i64::from(days) * 86_400)),
        (None, None) => None,
    };
    if args
        .reason
        .as_ref()
        .is_some_and(|r| r.len() > MAX_BAN_REASON)
    {
        return Err(Failure::new(format!(
            "--reason: at most {MAX_BAN_REASON} bytes"
        )));
    }
    let url = args.who.database.url();
    let store = database::open::<U>(&url).await?;
    let result = ban_in(&store, &login, until, args.reason.as_deref(), now).await;
    database::close(store).await;
    let (id, login) = result.map_err(|failure| failure.into_failure(&login, &url))?;
    say(&format!(
        "banned {login} (id {id}) {}; their sessions ended on every instance",
        until.map_or("until unbanned".to_owned(), |at| format!(
            "until {}",
            rfc3339(at)
        ))
    ))
}

/// Why a ban or unban failed.
enum Refused {
    NoUser,
    Superuser,
    Unsupported,
    Store(warden::StoreError),
}

impl From<warden::StoreError> for Refused {
    fn from(error: warden::StoreError) -> Self {
        Self::Store(error)
    }
}

impl Refused {
    fn into_failure(self, login: &str, url: &str) -> Failure {
        match self {
            Self::NoUser => Failure::new(format!("no user logs in as {login:?}")),
            Self::Superuser => Failure::new(format!(
                "{login} is a superuser: a superuser is never banned; demote them first"
            )),
            Self::Unsupported => Failure::new("this store keeps no bans"),
            Self::Store(error) => database::store_failure(&error, url),
        }
    }
}

/// Bans the user who logs in as `login` and ends their sessions: their id and
/// login as stored. The
/// row first, then the cut-off, as `UserManager::ban` does.
async fn ban_in<U: UserModel>(
    store: &warden::DatabaseStore<U>,
    login: &str,
    until: Option<i64>,
    reason: Option<&str>,
    now: i64,
) -> Result<(String, String), Refused> {
    let user = store.get_by_login(login).await?.ok_or(Refused::NoUser)?;
    if user.is_superuser() {
        return Err(Refused::Superuser);
    }
    let bans = store.bans().ok_or(Refused::Unsupported)?;
    let id = user.id().to_string();
    bans.put(&Ban::new(id.as_str(), now).until(until).reason(reason))
        .await?;
    if let Some(sessions) = store.sessions() {
        sessions.end_user(&id, now).await?;
    }
    Ok((id, user.login().to_owned()))
}

async fn unban<U: UserModel>(args: &WhoArgs) -> Result<(), Failure> {
    let login = login_of::<U>(args.email.as_ref(), args.username.as_ref())?;
    let url = args.database.url();
    let store = database::open::<U>(&url).await?;
    let result = unban_in(&store, &login).await;
    database::close(store).await;
    let (id, login, lifted) = result.map_err(|failure| failure.into_failure(&login, &url))?;
    say(&if lifted {
        format!("unbanned {login} (id {id})")
    } else {
        format!("{login} (id {id}) was not banned")
    })
}

async fn unban_in<U: UserModel>(
    store: &warden::DatabaseStore<U>,
    login: &str,
) -> Result<(String, String, bool), Refused> {
    let user = store.get_by_login(login).await?.ok_or(Refused::NoUser)?;
    let bans = store.bans().ok_or(Refused::Unsupported)?;
    let id = user.id().to_string();
    let lifted = bans.remove(&id).await?;
    Ok((id, user.login().to_owned(), lifted))
}

/// A Unix time as RFC 3339, UTC.
fn rfc3339(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| at.to_string())
}

/// Now, in Unix seconds.
fn time_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}
