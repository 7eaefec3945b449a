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
        email: if U::HAS_EMAIL {
            Some(row.try_get("email").map_err(db)?)
        } else {
            None
        },
        hashed_password: row.try_get("hashed_password").map_err(db)?,
        is_active: row.try_get("is_active").map_err(db)?,
        is_superuser: row.try_get("is_superuser").map_err(db)?,
        is_verified: row.try_get("is_verified").map_err(db)?,
    };
    let mut extra = Vec::with_capacity(fields.len());
    for field in fields {
        let name = field.name;
        let value = match field.kind {
            FieldKind::Text | FieldKind::Roles(_) => row
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
            Some(FieldKind::Text | FieldKind::Roles(_)) | None => args.add(Option::<String>::None),
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
    if let Some(email) = user.email() {
        bind(args, FieldValue::Text(email.to_owned()), None)?;
    }
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

/// A unique violation on the e-mail or login indexes is [`StoreError::Duplicate`]; on
/// the primary key (SQLite names `user.id`, PostgreSQL `user_pkey`) it is not.
pub(crate) fn write_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(e)
            if e.is_unique_violation()
                && e.constraint() != Some("user_pkey")
                && !e.message().contains("user.id") =>
        {
            StoreError::Duplicate
        }
        _ => db(error),
    }
}

/// What an SQL store does the same way whatever its database: `Clone`, `Debug`, the
/// fetch of one user and the [`UserStore`](super::UserStore) methods over its
/// table's statements. The store supplies its arguments type, `pool`, `table`, and
/// `write` (the statement, run; the number of users it changed), and may add trait
/// methods of its own (`shared`, `changes`).
macro_rules! sql_store {
    ($store:ident, $args:ty, { $($extra:item)* }) => {
        impl<U: UserModel> Clone for $store<U> {
            fn clone(&self) -> Self {
                Self {
                    pool: self.pool.clone(),
                    table: Arc::clone(&self.table),
                    model: PhantomData,
                }
            }
        }

        impl<U: UserModel> std::fmt::Debug for $store<U> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($store))
                    .field("model", &U::NAME)
                    .finish_non_exhaustive()
            }
        }

        impl<U: UserModel> $store<U> {
            async fn fetch(&self, sql: &str, key: FieldValue) -> Result<Option<U>, StoreError> {
                let mut args = <$args>::default();
                bind(&mut args, key, None)?;
                sqlx::query_with(sql, args)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db)?
                    .as_ref()
                    .map(|row| decode(row, self.table.fields))
                    .transpose()
            }
        }

        #[async_trait]
        impl<U: UserModel> UserStore<U> for $store<U> {
            async fn get(&self, id: &U::Id) -> Result<Option<U>, StoreError> {
                self.fetch(&self.table.select_by_id, id.to_value()).await
            }

            async fn get_by_email(&self, email: &str) -> Result<Option<U>, StoreError> {
                match &self.table.select_by_email {
                    Some(sql) => self.fetch(sql, FieldValue::Text(email.to_owned())).await,
                    None => Ok(None),
                }
            }

            async fn get_by_login(&self, login: &str) -> Result<Option<U>, StoreError> {
                self.fetch(
                    &self.table.select_by_login,
                    FieldValue::Text(login.to_owned()),
                )
                .await
            }

            async fn create(&self, mut user: U) -> Result<U, StoreError> {
                let mut args = <$args>::default();
                if !self.table.assigned_ids {
                    bind(&mut args, user.id().to_value(), None)?;
                }
                bind_fields(&mut args, &user)?;
                let query = sqlx::query_with(&self.table.insert, args);
                if self.table.assigned_ids {
                    let row = query.fetch_one(&self.pool).await.map_err(write_error)?;
                    let id: i64 = sqlx::Row::try_get(&row, "id").map_err(db)?;
                    *user.account_mut().id = U::Id::from_value(FieldValue::Int(id))
                        .ok_or_else(|| StoreError::Corrupt(format!("assigned id {id}")))?;
                } else {
                    query.execute(&self.pool).await.map_err(write_error)?;
                }
                Ok(user)
            }

            async fn update(&self, user: U) -> Result<U, StoreError> {
                let mut args = <$args>::default();
                bind_fields(&mut args, &user)?;
                bind(&mut args, user.id().to_value(), None)?;
                if self.write(&self.table.update, args).await? == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(user)
            }

            async fn replace(&self, expected: &U, new: U) -> Result<U, StoreError> {
                if new.id() != expected.id() {
                    return Err(StoreError::Database(
                        "replace cannot change a user's id".into(),
                    ));
                }
                let mut args = <$args>::default();
                bind_fields(&mut args, &new)?;
                bind(&mut args, expected.id().to_value(), None)?;
                bind_fields(&mut args, expected)?;
                if self.write(&self.table.replace, args).await? == 1 {
                    return Ok(new);
                }
                match self.get(expected.id()).await? {
                    None => Err(StoreError::NotFound),
                    Some(_) => Err(StoreError::Conflict),
                }
            }

            async fn list(
                &self,
                filter: &super::UserFilter,
                after: Option<&U::Id>,
                limit: usize,
            ) -> Result<Vec<U>, StoreError> {
                // A model without an e-mail (or roles) has none to match.
                let roles = super::listing::roles_column(self.table.fields);
                if (filter.email_prefix.is_some() && self.table.select_by_email.is_none())
                    || (filter.role.is_some() && roles.is_none())
                {
                    return Ok(Vec::new());
                }
                let sql = self.table.select_page(filter, after.is_some());
                let mut args = <$args>::default();
                if let Some(after) = after {
                    bind(&mut args, after.to_value(), None)?;
                }
                if let Some(prefix) = &filter.email_prefix {
                    bind(&mut args, FieldValue::Text(super::like_prefix(prefix)), None)?;
                }
                for given in [filter.is_active, filter.is_verified, filter.is_superuser]
                    .into_iter()
                    .flatten()
                {
                    bind(&mut args, FieldValue::Bool(given), None)?;
                }
                if let Some(role) = &filter.role {
                    bind(&mut args, FieldValue::Text(format!(" {role} ")), None)?;
                }
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                bind(&mut args, FieldValue::Int(limit), None)?;
                sqlx::query_with(&sql, args)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db)?
                    .iter()
                    .map(|row| decode(row, self.table.fields))
                    .collect()
            }

            async fn delete(&self, id: &U::Id) -> Result<(), StoreError> {
                let mut args = <$args>::default();
                bind(&mut args, id.to_value(), None)?;
                if self.write(&self.table.delete, args).await? == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            $($extra)*
        }
    };
}

pub(crate) use sql_store;
