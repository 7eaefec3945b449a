//! What the SQL stores share: reading a user from a row and binding a user's columns,
//! for any sqlx database whose driver decodes and encodes the column types warden
//! uses.

use sqlx::{Arguments, ColumnIndex, Decode, Encode, Row, Type};

use super::StoreError;
use crate::model::{Account, Field, FieldKind, FieldValue, IdKind, UserId, UserModel};

pub(crate) fn db(error: sqlx::Error) -> StoreError {
    StoreError::Database(error.to_string())
}

/// Reads a user: the base columns by name, then the model's extra columns.
pub(crate) fn decode<U, R>(row: &R, fields: &[Field]) -> Result<U, StoreError>
where
    U: UserModel,
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> f64: Decode<'r, R::Database> + Type<R::Database>,
{
    let id = match U::Id::KIND {
        IdKind::Uuid => FieldValue::Text(row.try_get::<String, _>("id").map_err(db)?),
        IdKind::Integer => FieldValue::Int(row.try_get::<i64, _>("id").map_err(db)?),
    };
    let id = U::Id::from_value(id.clone())
        .ok_or_else(|| StoreError::Corrupt(format!("user id {id:?} is not a valid id")))?;
    let account = Account {
        id,
        email: row.try_get("email").map_err(db)?,
        hashed_password: row.try_get("hashed_password").map_err(db)?,
        is_active: row.try_get("is_active").map_err(db)?,
        is_superuser: row.try_get("is_superuser").map_err(db)?,
        is_verified: row.try_get("is_verified").map_err(db)?,
    };
    let mut extra = Vec::with_capacity(fields.len());
    for field in fields {
        let name = field.name;
        let value = match field.kind {
            FieldKind::Text => row
                .try_get::<Option<String>, _>(name)
                .map(|v| v.map(FieldValue::Text)),
            FieldKind::Bool => row
                .try_get::<Option<bool>, _>(name)
                .map(|v| v.map(FieldValue::Bool)),
            FieldKind::Integer => row
                .try_get::<Option<i64>, _>(name)
                .map(|v| v.map(FieldValue::Int)),
            FieldKind::Float => row
                .try_get::<Option<f64>, _>(name)
                .map(|v| v.map(FieldValue::Float)),
        }
        .map_err(db)?;
        extra.push(value.unwrap_or(FieldValue::Null));
    }
    U::from_columns(account, extra).map_err(StoreError::Corrupt)
}

/// Binds one value. A `NULL` is typed as the column's kind (PostgreSQL refuses a
/// text `NULL` for a numeric column); `kind` is `None` for a key, never `NULL`.
pub(crate) fn bind<'q, A>(
    args: &mut A,
    value: FieldValue,
    kind: Option<FieldKind>,
) -> Result<(), StoreError>
where
    A: Arguments<'q>,
    Option<String>: Encode<'q, A::Database> + Type<A::Database>,
    Option<bool>: Encode<'q, A::Database> + Type<A::Database>,
    Option<i64>: Encode<'q, A::Database> + Type<A::Database>,
    Option<f64>: Encode<'q, A::Database> + Type<A::Database>,
    String: Encode<'q, A::Database> + Type<A::Database>,
    bool: Encode<'q, A::Database> + Type<A::Database>,
    i64: Encode<'q, A::Database> + Type<A::Database>,
    f64: Encode<'q, A::Database> + Type<A::Database>,
{
    let result = match value {
        FieldValue::Null => match kind {
            Some(FieldKind::Bool) => args.add(Option::<bool>::None),
            Some(FieldKind::Integer) => args.add(Option::<i64>::None),
            Some(FieldKind::Float) => args.add(Option::<f64>::None),
            Some(FieldKind::Text) | None => args.add(Option::<String>::None),
        },
        FieldValue::Text(text) => args.add(text),
        FieldValue::Bool(b) => args.add(b),
        FieldValue::Int(i) => args.add(i),
        FieldValue::Float(f) => args.add(f),
    };
    result.map_err(|e| StoreError::Database(e.to_string()))
}

/// Binds every column but the id: the base fields, then the extras.
pub(crate) fn bind_fields<'q, A, U>(args: &mut A, user: &U) -> Result<(), StoreError>
where
    U: UserModel,
    A: Arguments<'q>,
    Option<String>: Encode<'q, A::Database> + Type<A::Database>,
    Option<bool>: Encode<'q, A::Database> + Type<A::Database>,
    Option<i64>: Encode<'q, A::Database> + Type<A::Database>,
    Option<f64>: Encode<'q, A::Database> + Type<A::Database>,
    String: Encode<'q, A::Database> + Type<A::Database>,
    bool: Encode<'q, A::Database> + Type<A::Database>,
    i64: Encode<'q, A::Database> + Type<A::Database>,
    f64: Encode<'q, A::Database> + Type<A::Database>,
{
    bind(args, FieldValue::Text(user.email().to_owned()), None)?;
    bind(
        args,
        FieldValue::Text(user.hashed_password().to_owned()),
        None,
    )?;
    bind(args, FieldValue::Bool(user.is_active()), None)?;
    bind(args, FieldValue::Bool(user.is_superuser()), None)?;
    bind(args, FieldValue::Bool(user.is_verified()), None)?;
    for (value, field) in user.columns().into_iter().zip(U::FIELDS) {
        bind(args, value, Some(field.kind))?;
    }
    Ok(())
}
