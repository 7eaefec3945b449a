//! Versioned migrations of warden's own tables. Each step runs once per database, in
//! order, inside the transaction that opens the store (on PostgreSQL under the
//! advisory lock, so instances that start together take turns), and is recorded in
//! `warden_schema`. FastAPI Users' own tables (`user`, `accesstoken`,
//! `oauth_account`) keep the shapes FastAPI Users reads: steps only add warden's
//! tables, warden's indexes and nullable columns of warden's tables, so an instance
//! of the previous release keeps working on an upgraded database (rolling upgrades).

use crate::model::IdKind;

/// One step: its version (1, 2, 3, ... in order), what it does, and its SQL.
pub(crate) struct Step {
    /// Recorded in `warden_schema` once applied.
    pub(crate) version: i64,
    /// What it changes, for the log.
    pub(crate) name: &'static str,
    /// The statements, for PostgreSQL (`true`) or SQLite, for user ids of a kind.
    pub(crate) sql: fn(postgres: bool, kind: IdKind) -> String,
    /// What to do when it fails on an existing database.
    pub(crate) hint: &'static str,
}

/// Every step, oldest first. A new release appends; a released step never changes.
pub(crate) const STEPS: &[Step] = &[
    Step {
        version: 1,
        name: "sessions, refresh tokens, cut-offs, throttle counters, access tokens, provider accounts",
        sql: baseline,
        // FastAPI Users lets one provider account be linked to two users; warden's
        // unique index cannot be built over such a pair.
        hint: "; a provider account linked to two users must be unlinked from one first",
    },
    Step {
        version: 2,
        name: "sessions keep their last sign-in and how it was proved (step-up, amr)",
        sql: |_, _| {
            "ALTER TABLE warden_session ADD COLUMN authenticated_at BIGINT;\n\
             ALTER TABLE warden_session ADD COLUMN amr VARCHAR(128);\n"
                .to_owned()
        },
        hint: "",
    },
    Step {
        version: 3,
        name: "opaque access tokens name their login's session (a refresh continues it)",
        sql: |_, _| crate::store::access_tokens::SESSION_TABLE.to_owned(),
        hint: "",
    },
    Step {
        version: 4,
        name: "throttle counters indexed by window, for the timed purge",
        sql: |_, _| crate::store::counters::sql::WINDOW_INDEX.to_owned(),
        hint: "",
    },
    Step {
        version: 5,
        name: "two-factor authentication: TOTP secrets, recovery codes, sign-in challenges",
        sql: |_, _| crate::store::two_factor::sql::TABLES.to_owned(),
        hint: "",
    },
    Step {
        version: PASSKEYS_STEP,
        name: "passkeys, their users' handles and ceremonies in progress",
        sql: crate::store::passkeys::tables,
        hint: "",
    },
    Step {
        version: BANS_STEP,
        name: "bans of users, kept apart from FastAPI Users' user table",
        sql: |_, _| crate::store::bans::sql::TABLE.to_owned(),
        hint: "",
    },
    Step {
        version: IMPERSONATION_STEP,
        name: "sessions name the superuser acting as their user (impersonation)",
        sql: |_, _| "ALTER TABLE warden_session ADD COLUMN actor VARCHAR(64);\n".to_owned(),
        hint: "",
    },
    Step {
        version: AUDIT_STEP,
        name: "the audit trail: security events naming a user",
        sql: crate::store::audit::table,
        hint: "",
    },
    Step {
        version: API_KEYS_STEP,
        name: "API keys (personal access tokens): hashed secrets, scopes, expiry, revocation",
        sql: crate::store::api_keys::table,
        hint: "",
    },
];

/// The passkey tables' step: its number is here alone.
const PASSKEYS_STEP: i64 = 6;

/// The ban table's step: its number is here alone.
const BANS_STEP: i64 = 7;

/// The impersonation column's step: its number is here alone.
const IMPERSONATION_STEP: i64 = 8;

/// The audit trail's step: its number is here alone.
const AUDIT_STEP: i64 = 9;

/// The API key table's step: its number is here alone.
const API_KEYS_STEP: i64 = 10;

/// The newest version this build knows.
pub(crate) const LATEST: i64 = STEPS[STEPS.len() - 1].version;

/// Version 1: the tables of the first release, as it created them (idempotent, so a
/// database that release made is left as it is).
fn baseline(postgres: bool, kind: IdKind) -> String {
    [
        crate::store::counters::sql::TABLE.to_owned(),
        crate::store::sessions::sql::TABLES.to_owned(),
        super::access_tokens::table(postgres, kind),
        super::oauth_accounts::table(postgres, kind),
    ]
    .concat()
}

/// The table that records applied steps.
pub(crate) const SCHEMA_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS warden_schema (version INTEGER PRIMARY KEY NOT NULL)";

/// The steps a database at `current` still needs; says so in the log when the
/// database is newer than this build (an instance of the previous release during a
/// rolling upgrade keeps working: steps only add).
pub(crate) fn pending(current: Option<i64>) -> impl Iterator<Item = &'static Step> {
    let current = current.unwrap_or(0);
    if current > LATEST {
        tracing::warn!(
            database = current,
            build = LATEST,
            "the database's warden schema is newer than this build; running on it (steps only add), but upgrade this instance"
        );
    }
    STEPS.iter().filter(move |step| step.version > current)
}

/// Runs the pending steps on a connection inside the store's opening transaction.
macro_rules! run_steps {
    ($tx:expr, $postgres:expr, $kind:expr, $insert:expr) => {{
        sqlx::raw_sql(crate::store::migrate::SCHEMA_TABLE)
            .execute(&mut *$tx)
            .await
            .map_err(db)?;
        let current: Option<i64> =
            sqlx::query_scalar("SELECT CAST(MAX(version) AS BIGINT) FROM warden_schema")
                .fetch_one(&mut *$tx)
                .await
                .map_err(db)?;
        for step in crate::store::migrate::pending(current) {
            sqlx::raw_sql(&(step.sql)($postgres, $kind))
                .execute(&mut *$tx)
                .await
                .map_err(|e| {
                    StoreError::Database(format!(
                        "warden schema step {} ({}) failed: {e}{}",
                        step.version, step.name, step.hint
                    ))
                })?;
            sqlx::query($insert)
                .bind(step.version)
                .execute(&mut *$tx)
                .await
                .map_err(db)?;
            tracing::info!(
                version = step.version,
                step = step.name,
                "warden schema upgraded"
            );
        }
    }};
}
pub(crate) use run_steps;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one() {
        // Contiguous, so that two changes claiming one number collide here.
        for (at, step) in STEPS.iter().enumerate() {
            assert_eq!(step.version, at as i64 + 1, "{}", step.name);
        }
    }

    #[test]
    fn a_database_is_brought_up_from_where_it_is() {
        let versions = |current| pending(current).map(|s| s.version).collect::<Vec<_>>();
        assert_eq!(versions(None), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(versions(Some(1)), [2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(versions(Some(4)), [5, 6, 7, 8, 9, 10]);
        assert!(versions(Some(LATEST)).is_empty());
        assert!(versions(Some(LATEST + 1)).is_empty());
    }
}
