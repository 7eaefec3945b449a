//! The `user` table of a model, as SQL: FastAPI Users' columns, then one column per
//! extra field of the model, in SQLite's or PostgreSQL's dialect. Every SQL store
//! builds its statements here, so the schema is written once.

use std::fmt::Write as _;

use crate::model::{Field, FieldKind, IdKind, UserId, UserModel};

/// The base columns, in FastAPI Users' order.
const BASE_COLUMNS: [&str; 6] = [
    "id",
    "email",
    "hashed_password",
    "is_active",
    "is_superuser",
    "is_verified",
];

/// The base columns of model `U`: FastAPI Users' but `email` for a model without one.
fn base_columns<U: UserModel>() -> Vec<&'static str> {
    BASE_COLUMNS
        .into_iter()
        .filter(|column| U::HAS_EMAIL || *column != "email")
        .collect()
}

/// The channel on which PostgreSQL stores announce changed users (the payload is
/// the id), so every instance drops its cached copy.
pub(crate) const CHANGES_CHANNEL: &str = "warden_user";

/// The SQL dialect of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    // Each is built only by its store; the SQL generation covers both regardless.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Postgres,
}

impl Dialect {
    fn column_type(self, kind: FieldKind) -> &'static str {
        match (self, kind) {
            (_, FieldKind::Text | FieldKind::Roles(_)) => "TEXT",
            (_, FieldKind::Bool) => "BOOLEAN",
            (Self::Sqlite, FieldKind::Integer) => "INTEGER",
            (Self::Postgres, FieldKind::Integer) => "BIGINT",
            (Self::Sqlite, FieldKind::Float) => "REAL",
            (Self::Postgres, FieldKind::Float) => "DOUBLE PRECISION",
        }
    }

    fn bool_literal(self, value: bool) -> &'static str {
        match (self, value) {
            (Self::Sqlite, true) => "1",
            (Self::Sqlite, false) => "0",
            (Self::Postgres, true) => "TRUE",
            (Self::Postgres, false) => "FALSE",
        }
    }

    /// Null-safe equality, for compare-and-swap over nullable columns.
    fn same(self) -> &'static str {
        match self {
            Self::Sqlite => "IS",
            Self::Postgres => "IS NOT DISTINCT FROM",
        }
    }
}

/// Numbers placeholders: `?` for SQLite, `$1`, `$2`, ... for PostgreSQL.
struct Params {
    dialect: Dialect,
    next: usize,
}

impl Params {
    fn new(dialect: Dialect) -> Self {
        Self { dialect, next: 0 }
    }

    fn next(&mut self) -> String {
        self.next += 1;
        match self.dialect {
            Dialect::Sqlite => "?".to_owned(),
            Dialect::Postgres => format!("${}", self.next),
        }
    }

    /// A placeholder for an id: PostgreSQL's UUID column takes text cast to `uuid`.
    fn id(&mut self, kind: IdKind) -> String {
        let param = self.next();
        match (self.dialect, kind) {
            (Dialect::Postgres, IdKind::Uuid) => format!("{param}::uuid"),
            _ => param,
        }
    }
}

/// The statements of one model's table.
#[derive(Debug)]
pub(crate) struct Table {
    pub create: String,
    /// The case-insensitive unique indexes (e-mail, login), also run on tables that
    /// exist already.
    pub indexes: String,
    pub select_by_id: String,
    /// `None` for a model without an e-mail.
    pub select_by_email: Option<String>,
    pub select_by_login: String,
    pub insert: String,
    pub update: String,
    pub replace: String,
    pub delete: String,
    /// `true`: the database assigns ids (`INSERT ... RETURNING id`).
    pub assigned_ids: bool,
    /// The selected columns, for the statements built per call (the list).
    select: String,
    dialect: Dialect,
    id_kind: IdKind,
    pub fields: &'static [Field],
}

/// A field's default as an SQL literal, from the JSON text `#[user_model]` recorded.
fn sql_default(field: &Field, dialect: Dialect) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(field.default?).ok()?;
    Some(match json {
        serde_json::Value::String(text) => format!("'{}'", text.replace('\'', "''")),
        serde_json::Value::Bool(b) => dialect.bool_literal(b).to_owned(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    })
}

/// The column definition of an extra field (for CREATE TABLE and ALTER TABLE).
pub(crate) fn column_definition(field: &Field, for_alter: bool, dialect: Dialect) -> String {
    let mut sql = format!("\"{}\" {}", field.name, dialect.column_type(field.kind));
    if !field.nullable {
        sql.push_str(" NOT NULL");
    }
    match sql_default(field, dialect) {
        Some(default) => write!(sql, " DEFAULT {default}").unwrap_or(()),
        // Existing rows need a value for a new NOT NULL column.
        None if for_alter && !field.nullable => {
            let zero = match field.kind {
                FieldKind::Text | FieldKind::Roles(_) => "''",
                FieldKind::Bool => dialect.bool_literal(false),
                FieldKind::Integer => "0",
                FieldKind::Float => "0.0",
            };
            write!(sql, " DEFAULT {zero}").unwrap_or(());
        }
        None => {}
    }
    sql
}

/// A column as selected: PostgreSQL casts ids and numbers to the one type the store
/// reads, so tables FastAPI Users created (`INTEGER`, `REAL`) read like warden's.
fn selected(column: &str, kind: Option<FieldKind>, id: Option<IdKind>, dialect: Dialect) -> String {
    if dialect == Dialect::Sqlite {
        return column.to_owned();
    }
    match (id, kind) {
        (Some(IdKind::Uuid), _) => format!("{column}::text AS {column}"),
        (Some(IdKind::Integer), _) | (_, Some(FieldKind::Integer)) => {
            format!("{column}::bigint AS {column}")
        }
        (_, Some(FieldKind::Float)) => format!("{column}::double precision AS {column}"),
        _ => column.to_owned(),
    }
}

impl Table {
    pub(crate) fn new<U: UserModel>(dialect: Dialect) -> Self {
        let fields = U::FIELDS;
        let id_kind = U::Id::KIND;
        let id_type = match (dialect, id_kind) {
            (Dialect::Sqlite, IdKind::Uuid) => "CHAR(36) NOT NULL",
            (Dialect::Sqlite, IdKind::Integer) => "INTEGER NOT NULL",
            (Dialect::Postgres, IdKind::Uuid) => "UUID NOT NULL",
            (Dialect::Postgres, IdKind::Integer) => "BIGINT GENERATED BY DEFAULT AS IDENTITY",
        };
        let email = if U::HAS_EMAIL {
            "    email VARCHAR(320) NOT NULL,\n"
        } else {
            ""
        };
        let mut create = format!(
            "CREATE TABLE IF NOT EXISTS \"user\" (\n    id {id_type},\n{email}    hashed_password VARCHAR(1024) NOT NULL,\n    is_active BOOLEAN NOT NULL,\n    is_superuser BOOLEAN NOT NULL,\n    is_verified BOOLEAN NOT NULL,\n"
        );
        for field in fields {
            let _ = writeln!(create, "    {},", column_definition(field, false, dialect));
        }
        create.push_str("    PRIMARY KEY (id)\n);\n");
        if U::HAS_EMAIL {
            create
                .push_str("CREATE UNIQUE INDEX IF NOT EXISTS ix_user_email ON \"user\" (email);\n");
        }
        let indexes = unique_indexes::<U>();
        create.push_str(&indexes);

        let base = base_columns::<U>();
        let extra: Vec<String> = fields.iter().map(|f| format!("\"{}\"", f.name)).collect();
        let all: Vec<String> = base
            .iter()
            .map(|c| (*c).to_owned())
            .chain(extra.iter().cloned())
            .collect();
        let select = base
            .iter()
            .map(|c| {
                let id = (*c == "id").then_some(id_kind);
                selected(c, None, id, dialect)
            })
            .chain(
                fields
                    .iter()
                    .zip(&extra)
                    .map(|(f, c)| selected(c, Some(f.kind), None, dialect)),
            )
            .collect::<Vec<_>>()
            .join(", ");
        let assigned_ids = id_kind == IdKind::Integer;
        let returning_id = selected("id", None, Some(id_kind), dialect);

        let mut p = Params::new(dialect);
        let insert = if assigned_ids {
            let cols = &all[1..];
            let values: Vec<String> = cols.iter().map(|_| p.next()).collect();
            format!(
                "INSERT INTO \"user\" ({}) VALUES ({}) RETURNING {returning_id}",
                cols.join(", "),
                values.join(", ")
            )
        } else {
            let mut values = vec![p.id(id_kind)];
            values.extend(all[1..].iter().map(|_| p.next()));
            format!(
                "INSERT INTO \"user\" ({}) VALUES ({})",
                all.join(", "),
                values.join(", ")
            )
        };

        // Writes bind every column but the id first, then the id (and for the
        // compare-and-swap the expected value of every column). On PostgreSQL they
        // also announce the changed id, in the same statement, so the announcement
        // goes out exactly when the change commits.
        let settable = &all[1..];
        let mut p = Params::new(dialect);
        let set = settable
            .iter()
            .map(|c| format!("{c} = {}", p.next()))
            .collect::<Vec<_>>()
            .join(", ");
        let update = format!("UPDATE \"user\" SET {set} WHERE id = {}", p.id(id_kind));
        let mut p = Params::new(dialect);
        let set = settable
            .iter()
            .map(|c| format!("{c} = {}", p.next()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut same = vec![format!("id = {}", p.id(id_kind))];
        same.extend(
            settable
                .iter()
                .map(|c| format!("{c} {} {}", dialect.same(), p.next())),
        );
        let replace = format!("UPDATE \"user\" SET {set} WHERE {}", same.join(" AND "));
        let mut p = Params::new(dialect);
        let delete = format!("DELETE FROM \"user\" WHERE id = {}", p.id(id_kind));
        let (update, replace, delete) = match dialect {
            Dialect::Sqlite => (update, replace, delete),
            Dialect::Postgres => (announced(&update), announced(&replace), announced(&delete)),
        };
        let mut p = Params::new(dialect);
        let by_id = p.id(id_kind);
        // Lookups compare lower() to lower(), so the unique indexes on lower() serve them.
        let by = |column: &str| {
            let mut p = Params::new(dialect);
            format!(
                "SELECT {select} FROM \"user\" WHERE lower(\"{column}\") = lower({})",
                p.next()
            )
        };
        Self {
            create,
            indexes,
            select_by_id: format!("SELECT {select} FROM \"user\" WHERE id = {by_id}"),
            select_by_email: U::HAS_EMAIL.then(|| by("email")),
            select_by_login: by(U::LOGIN),
            insert,
            update,
            replace,
            delete,
            assigned_ids,
            fields,
            select,
            dialect,
            id_kind,
        }
    }

    /// The page statement of [`UserStore::list`](super::UserStore::list) for
    /// these conditions; its parameters, in order: the `after` id if `after`, the
    /// e-mail pattern, `is_active`, `is_verified`, `is_superuser` for those given,
    /// then the limit.
    pub(crate) fn select_page(&self, filter: &super::UserFilter, after: bool) -> String {
        let mut p = Params::new(self.dialect);
        let mut conditions = Vec::new();
        if after {
            conditions.push(format!("id > {}", p.id(self.id_kind)));
        }
        if filter.email_prefix.is_some() && self.select_by_email.is_some() {
            conditions.push(format!("lower(email) LIKE {} ESCAPE '\\'", p.next()));
        }
        for (column, given) in [
            ("is_active", filter.is_active),
            ("is_verified", filter.is_verified),
            ("is_superuser", filter.is_superuser),
        ] {
            if given.is_some() {
                conditions.push(format!("{column} = {}", p.next()));
            }
        }
        // The column holds names separated by single spaces: padded with a space on
        // each side, it holds ` name ` exactly when the user has the role. A plain
        // substring search, so a role name's `_` is no wildcard.
        if filter.role.is_some()
            && let Some(column) = super::listing::roles_column(self.fields)
        {
            let find = match self.dialect {
                Dialect::Sqlite => "instr",
                Dialect::Postgres => "strpos",
            };
            conditions.push(format!(
                "{find}(' ' || \"{column}\" || ' ', {}) > 0",
                p.next()
            ));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        format!(
            "SELECT {} FROM \"user\"{filter} ORDER BY id LIMIT {}",
            self.select,
            p.next()
        )
    }
}

/// `statement` (an UPDATE or DELETE) that also notifies [`CHANGES_CHANNEL`] of each
/// id it touched; it returns one row per touched user.
fn announced(statement: &str) -> String {
    format!(
        "WITH changed AS ({statement} RETURNING id) SELECT pg_notify('{CHANGES_CHANNEL}', id::text) FROM changed"
    )
}

/// FastAPI Users compares lower(email) but only checks before inserting; these
/// indexes make case-insensitive uniqueness of the e-mail and of the login field
/// hold under concurrent registrations. (Usernames are ASCII, so SQLite's ASCII-only
/// lower() and PostgreSQL's agree on them.)
fn unique_indexes<U: UserModel>() -> String {
    let mut columns = Vec::new();
    if U::HAS_EMAIL {
        columns.push("email");
    }
    if U::LOGIN != "email" {
        columns.push(U::LOGIN);
    }
    columns
        .into_iter()
        .map(|column| {
            format!(
                "CREATE UNIQUE INDEX IF NOT EXISTS warden_user_{column}_lower ON \"user\" (lower(\"{column}\"));\n"
            )
        })
        .collect()
}

/// What a migration runs on a table whose columns are `existing` (empty: no table):
/// the whole table, or, on a table that fits the model, the case-insensitive unique
/// indexes (also for databases FastAPI Users created); a table that does not fit stops
/// with [`StoreError::Schema`](super::StoreError::Schema).
pub(crate) fn migration<'t, U: UserModel>(
    table: &'t Table,
    existing: &[(String, String)],
    dialect: Dialect,
) -> Result<&'t str, super::StoreError> {
    if existing.is_empty() {
        return Ok(&table.create);
    }
    let problems = schema_problems::<U>(existing, dialect);
    if !problems.is_empty() {
        return Err(super::StoreError::Schema(problems.join("\n")));
    }
    Ok(&table.indexes)
}

/// What `warden check` reports for a table whose columns are `existing` (empty: no
/// table), without changing anything.
pub(crate) fn inspection<U: UserModel>(
    existing: &[(String, String)],
    dialect: Dialect,
) -> Vec<String> {
    if existing.is_empty() {
        return vec![
            "table `user` does not exist: run `warden migrate` (or start the application once)"
                .to_owned(),
        ];
    }
    schema_problems::<U>(existing, dialect)
}

/// What is wrong with an existing table, given its columns as `(name, declared
/// type)`: one line per problem, each with the statement that fixes it.
pub(crate) fn schema_problems<U: UserModel>(
    existing: &[(String, String)],
    dialect: Dialect,
) -> Vec<String> {
    let find = |name: &str| {
        existing
            .iter()
            .find(|(column, _)| column.eq_ignore_ascii_case(name))
    };
    let mut problems = Vec::new();
    for base in base_columns::<U>() {
        if find(base).is_none() {
            problems.push(format!(
                "column `{base}` is missing: this is not a FastAPI Users `user` table; point the store at another database or rename the table"
            ));
        }
    }
    if let Some((_, declared)) = find("id") {
        let integer = declared.to_ascii_uppercase().contains("INT");
        match (U::Id::KIND, integer) {
            (IdKind::Integer, false) => problems.push(format!(
                "column `id` is {declared} but {} declares `id = i64`: remove `id = i64` to keep UUID ids",
                U::NAME
            )),
            (IdKind::Uuid, true) => problems.push(format!(
                "column `id` is {declared} but {} has UUID ids: declare `#[user_model(id = i64)]`",
                U::NAME
            )),
            _ => {}
        }
    }
    for field in U::FIELDS {
        if find(field.name).is_none() {
            problems.push(format!(
                "column `{}` of {} is missing: run ALTER TABLE \"user\" ADD COLUMN {};",
                field.name,
                U::NAME,
                column_definition(field, true, dialect)
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::User;

    #[test]
    fn postgres_statements_number_their_parameters_and_announce_changes() {
        let table = Table::new::<User>(Dialect::Postgres);
        assert_eq!(
            table.select_by_id,
            "SELECT id::text AS id, email, hashed_password, is_active, is_superuser, is_verified FROM \"user\" WHERE id = $1::uuid"
        );
        assert!(
            table
                .insert
                .ends_with("VALUES ($1::uuid, $2, $3, $4, $5, $6)")
        );
        assert!(
            table
                .update
                .starts_with("WITH changed AS (UPDATE \"user\" SET email = $1")
        );
        assert!(table.update.contains("WHERE id = $6::uuid RETURNING id)"));
        assert!(
            table
                .replace
                .contains("is_verified IS NOT DISTINCT FROM $11 RETURNING id")
        );
        let sqlite = Table::new::<User>(Dialect::Sqlite);
        assert_eq!(sqlite.delete, "DELETE FROM \"user\" WHERE id = ?");
    }
}
