//! The API key routes' operations.

use std::fmt;

use utoipa::openapi::path::HttpMethod;

/// One API key route: a user's own under `/users/me/api-keys`, any user's for
/// superusers under `/users/{id}/api-keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ApiKeyOp {
    /// `POST /users/me/api-keys`.
    Create,
    /// `GET /users/me/api-keys`.
    List,
    /// `DELETE /users/me/api-keys/{key_id}`.
    Delete,
    /// `GET /users/{id}/api-keys`.
    UserList,
    /// `DELETE /users/{id}/api-keys/{key_id}`.
    UserDelete,
}

impl ApiKeyOp {
    pub(crate) fn method(self) -> HttpMethod {
        match self {
            Self::Create => HttpMethod::Post,
            Self::List | Self::UserList => HttpMethod::Get,
            Self::Delete | Self::UserDelete => HttpMethod::Delete,
        }
    }

    pub(crate) fn default_path(self) -> String {
        match self {
            Self::Create | Self::List => "/users/me/api-keys".into(),
            Self::Delete => "/users/me/api-keys/{key_id}".into(),
            Self::UserList => "/users/{id}/api-keys".into(),
            Self::UserDelete => "/users/{id}/api-keys/{key_id}".into(),
        }
    }
}

impl fmt::Display for ApiKeyOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Create => "users:create_api_key",
            Self::List => "users:api_keys",
            Self::Delete => "users:delete_api_key",
            Self::UserList => "users:user_api_keys",
            Self::UserDelete => "users:delete_user_api_key",
        })
    }
}
