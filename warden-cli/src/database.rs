//! `warden migrate` and `warden check`: the user table at a database URL.

use clap::Args;
use warden::{DatabaseStore, StoreError, UserModel};

use crate::{Failure, say};

/// The environment variable naming the database when `--database-url` is absent.
pub(crate) const URL_VAR: &str = "WARDEN_DATABASE_URL";
/// The database when neither `--database-url` nor the variable is set.
pub(crate) const DEFAULT_URL: &str = "sqlite://warden.db";

/// Where the users are.
#[derive(Debug, Default, Args)]
pub(crate) struct DatabaseArgs {
    /// The database: sqlite://path.db or postgres://user:password@host/db
    /// [default: $WARDEN_DATABASE_URL, else sqlite://warden.db]
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

impl DatabaseArgs {
    /// The URL given, else the environment's, else the default.
    pub(crate) fn url(&self) -> String {
        self.database_url
            .clone()
            .or_else(|| std::env::var(URL_VAR).ok().filter(|url| !url.is_empty()))
            .unwrap_or_else(|| DEFAULT_URL.to_owned())
    }
}

/// Opens the store at `url`, creating the table or checking the existing one.
pub(crate) async fn open<U: UserModel>(url: &str) -> Result<DatabaseStore<U>, Failure> {
    DatabaseStore::<U>::open(url)
        .await
        .map_err(|error| store_failure(&error, url))
}

/// Closes the store's connections, so SQLite folds its write-ahead log back into the
/// database file before the process exits.
pub(crate) async fn close<U: UserModel>(store: DatabaseStore<U>) {
    store.close().await;
}

/// `warden migrate`.
pub(crate) async fn migrate<U: UserModel>(url: &str) -> Result<(), Failure> {
    close(open::<U>(url).await?).await;
    say(&format!(
        "migrated {}",
        warden::runtime::store::redact_url(url)
    ))
}

/// `warden check`.
pub(crate) async fn check<U: UserModel>(url: &str) -> Result<(), Failure> {
    let problems = DatabaseStore::<U>::inspect(url)
        .await
        .map_err(|error| store_failure(&error, url))?;
    if !problems.is_empty() {
        return Err(Failure::lines(problems));
    }
    say(&format!("ok: the user table fits {}", U::NAME))
}

/// A store error as printed: a schema mismatch is one line per problem, and the URL's
/// password never shows.
pub(crate) fn store_failure(error: &StoreError, url: &str) -> Failure {
    let message = match error {
        StoreError::Schema(problems) => problems.clone(),
        other => other.to_string(),
    };
    Failure::new(hide_url(&message, url))
}

/// `message` with every copy of `url` redacted.
pub(crate) fn hide_url(message: &str, url: &str) -> String {
    let redacted = warden::runtime::store::redact_url(url);
    if redacted == url {
        message.to_owned()
    } else {
        message.replace(url, &redacted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_the_url_in_messages() {
        let url = "postgres://app:s3cret@host/db";
        assert_eq!(
            hide_url(&format!("cannot connect to {url:?}: refused"), url),
            "cannot connect to \"postgres://app:***@host/db\": refused"
        );
    }
}
