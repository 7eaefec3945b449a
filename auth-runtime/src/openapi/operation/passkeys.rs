//! The passkey routes' operations (cargo feature `passkeys`).

use std::fmt;
use std::sync::Arc;

use utoipa::openapi::path::HttpMethod;

use super::Switch;

/// One passkey route. Managing passkeys is under `/users/me/...`, the sign-in
/// ceremony under `/auth/{backend}/...`, the sign-up beside `/auth/register`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum PasskeyOp {
    /// `POST /users/me/passkeys/options`.
    RegisterOptions,
    /// `POST /users/me/passkeys`.
    Add,
    /// `GET /users/me/passkeys`.
    List,
    /// `PATCH /users/me/passkeys/{passkey_id}`.
    Rename,
    /// `DELETE /users/me/passkeys/{passkey_id}`.
    Delete,
    /// `POST /auth/{backend}/passkey/options`.
    LoginOptions { backend: Arc<str> },
    /// `POST /auth/{backend}/passkey`.
    Login { backend: Arc<str> },
    /// `POST /auth/register/passkey/options`.
    SignupOptions,
    /// `POST /auth/register/passkey`.
    Signup,
    /// `GET /auth/passkeys/client.js`.
    Client,
}

impl PasskeyOp {
    pub(crate) fn method(&self) -> HttpMethod {
        match self {
            Self::List | Self::Client => HttpMethod::Get,
            Self::Rename => HttpMethod::Patch,
            Self::Delete => HttpMethod::Delete,
            _ => HttpMethod::Post,
        }
    }

    pub(crate) fn default_path(&self) -> String {
        match self {
            Self::RegisterOptions => "/users/me/passkeys/options".into(),
            Self::Add | Self::List => "/users/me/passkeys".into(),
            Self::Rename | Self::Delete => "/users/me/passkeys/{passkey_id}".into(),
            Self::LoginOptions { backend } => format!("/auth/{backend}/passkey/options"),
            Self::Login { backend } => format!("/auth/{backend}/passkey"),
            Self::SignupOptions => "/auth/register/passkey/options".into(),
            Self::Signup => "/auth/register/passkey".into(),
            Self::Client => "/auth/passkeys/client.js".into(),
        }
    }

    pub(crate) fn switch(&self) -> Switch {
        match self {
            Self::SignupOptions | Self::Signup => Switch::PasskeySignup,
            _ => Switch::Passkeys,
        }
    }
}

impl fmt::Display for PasskeyOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RegisterOptions => f.write_str("users:passkey_options"),
            Self::Add => f.write_str("users:add_passkey"),
            Self::List => f.write_str("users:passkeys"),
            Self::Rename => f.write_str("users:patch_passkey"),
            Self::Delete => f.write_str("users:delete_passkey"),
            Self::LoginOptions { backend } => write!(f, "auth:{backend}.passkey_options"),
            Self::Login { backend } => write!(f, "auth:{backend}.passkey"),
            Self::SignupOptions => f.write_str("register:passkey_options"),
            Self::Signup => f.write_str("register:passkey"),
            Self::Client => f.write_str("passkeys:client"),
        }
    }
}
