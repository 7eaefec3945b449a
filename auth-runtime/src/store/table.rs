//! The `user` table of a model, as SQL: FastAPI Users' columns, then one column per
//! extra field of the model. Every SQL store builds its statements here, so the
//! schema is written once.

use std::fmt::Write as _;

use crate::model::{Field, FieldKind, IdKind, UserId, UserModel};

/// The base columns, in FastAPI Users' order.
pub(crate) const BASE_COLUMNS: [&str; 6] = [
    "id",
    "email",
    "hashed_password",
    "is_active",
    "is_superuser",
    "is_verified",
];

/// The statements of one model's table.
#[derive(Debug)]
pub(crate) struct Table {
    pub create: String,
    pub select_by_id: String,
    pub select_by_email: String,
    pub insert: String,
    pub update: String,
    pub replace: String,
    pub delete: String,
    /// `true`: the database assigns ids (`INSERT ... RETURNING id`).
    pub assigned_ids: bool,
    pub fields: &'static [Field],
}

fn sqlite_type(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "TEXT",
        FieldKind::Bool => "BOOLEAN",
        FieldKind::Integer => "INTEGER",
        FieldKind::Float => "REAL",
    }
}

/// A field's default as an SQL literal, from the JSON text `#[user_model]` recorded.
fn sql_default(field: &Field) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(field.default?).ok()?;
    Some(match json {
        serde_json::Value::String(text) => format!("'{}'", text.replace('\'', "''")),
        serde_json::Value::Bool(b) => u8::from(b).to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    })
}

/// The column definition of an extra field (for CREATE TABLE and ALTER TABLE).
pub(crate) fn column_definition(field: &Field, for_alter: bool) -> String {
    let mut sql = format!("\"{}\" {}", field.name, sqlite_type(field.kind));
    if !field.nullable {
        sql.push_str(" NOT NULL");
    }
    match sql_default(field) {
        Some(default) => write!(sql, " DEFAULT {default}").unwrap_or(()),
        // SQLite cannot add a NOT NULL column without a default to existing rows.
        None if for_alter && !field.nullable => {
            let zero = match field.kind {
                FieldKind::Text => "''",
                FieldKind::Bool | FieldKind::Integer => "0",
                FieldKind::Float => "0.0",
            };
            write!(sql, " DEFAULT {zero}").unwrap_or(());
        }
        None => {}
    }
    sql
}

impl Table {
    pub(crate) fn sqlite<U: UserModel>() -> Self {
        let fields = U::FIELDS;
        let id_type = match U::Id::KIND {
            IdKind::Uuid => "CHAR(36)",
            IdKind::Integer => "INTEGER",
        };
        let mut create = format!(
            "CREATE TABLE IF NOT EXISTS \"user\" (\n    id {id_type} NOT NULL,\n    email VARCHAR(320) NOT NULL,\n    hashed_password VARCHAR(1024) NOT NULL,\n    is_active BOOLEAN NOT NULL,\n    is_superuser BOOLEAN NOT NULL,\n    is_verified BOOLEAN NOT NULL,\n"
        );
        for field in fields {
            let _ = writeln!(create, "    {},", column_definition(field, false));
        }
        create.push_str("    PRIMARY KEY (id)\n);\n");
        create.push_str("CREATE UNIQUE INDEX IF NOT EXISTS ix_user_email ON \"user\" (email);\n");
        // FastAPI Users compares lower(email) but only checks before inserting; this
        // index makes case-insensitive uniqueness hold under concurrent registrations.
        create.push_str(
            "CREATE UNIQUE INDEX IF NOT EXISTS warden_user_email_lower ON \"user\" (lower(email));\n",
        );

        let extra: Vec<String> = fields.iter().map(|f| format!("\"{}\"", f.name)).collect();
        let all: Vec<String> = BASE_COLUMNS
            .iter()
            .map(|c| (*c).to_owned())
            .chain(extra.iter().cloned())
            .collect();
        let columns = all.join(", ");
        let assigned_ids = U::Id::KIND == IdKind::Integer;
        let insert = if assigned_ids {
            let cols = &all[1..];
            format!(
                "INSERT INTO \"user\" ({}) VALUES ({}) RETURNING id",
                cols.join(", "),
                vec!["?"; cols.len()].join(", ")
            )
        } else {
            format!(
                "INSERT INTO \"user\" ({columns}) VALUES ({})",
                vec!["?"; all.len()].join(", ")
            )
        };
        let settable = &all[1..];
        let set = settable
            .iter()
            .map(|c| format!("{c} = ?"))
            .collect::<Vec<_>>()
            .join(", ");
        // `IS` compares NULLs as equal, so nullable extra fields take part in the
        // compare-and-swap like any other column.
        let same = all
            .iter()
            .map(|c| format!("{c} IS ?"))
            .collect::<Vec<_>>()
            .join(" AND ");
        Self {
            create,
            select_by_id: format!("SELECT {columns} FROM \"user\" WHERE id = ?"),
            select_by_email: format!(
                "SELECT {columns} FROM \"user\" WHERE lower(email) = lower(?)"
            ),
            insert,
            update: format!("UPDATE \"user\" SET {set} WHERE id = ?"),
            replace: format!("UPDATE \"user\" SET {set} WHERE {same}"),
            delete: "DELETE FROM \"user\" WHERE id = ?".to_owned(),
            assigned_ids,
            fields,
        }
    }
}

/// What is wrong with an existing table, given its columns as `(name, declared
/// type)`: one line per problem, each with the statement that fixes it.
pub(crate) fn schema_problems<U: UserModel>(existing: &[(String, String)]) -> Vec<String> {
    let find = |name: &str| {
        existing
            .iter()
            .find(|(column, _)| column.eq_ignore_ascii_case(name))
    };
    let mut problems = Vec::new();
    for base in BASE_COLUMNS {
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
                column_definition(field, true)
            ));
        }
    }
    problems
}
