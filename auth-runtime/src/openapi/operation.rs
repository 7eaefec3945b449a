//! The typed vocabulary of warden's routes: each built-in route is one
//! [`Operation`], which knows its method, FastAPI Users' path and route name, and
//! the router switch that serves it. The route inventory
//! ([`crate::routes`]) pairs each with its handler; the document, with its
//! description. Where a new route's path goes: see the inventory's rule.

use std::fmt;
use std::sync::Arc;

use utoipa::openapi::path::HttpMethod;

mod api_keys;
#[cfg(feature = "passkeys")]
mod passkeys;
pub(crate) use api_keys::ApiKeyOp;
#[cfg(feature = "passkeys")]
pub(crate) use passkeys::PasskeyOp;

/// One built-in route, by what it does. Backend and OAuth route names are the ones
/// the application configured.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Operation {
    /// `POST /auth/{backend}/login`.
    Login { backend: Arc<str> },
    /// `POST /auth/{backend}/logout`.
    Logout { backend: Arc<str> },
    /// `POST /auth/{backend}/refresh`.
    Refresh { backend: Arc<str> },
    /// `POST /auth/{backend}/reauthenticate`: step-up.
    Reauthenticate { backend: Arc<str> },
    /// `GET /auth/{route}/authorize`: log in with a provider through `backend`.
    #[cfg(feature = "oauth")]
    OAuthAuthorize { route: Arc<str>, backend: Arc<str> },
    /// `GET /auth/{route}/callback`.
    #[cfg(feature = "oauth")]
    OAuthCallback { route: Arc<str>, backend: Arc<str> },
    /// `GET /auth/associate/{route}/authorize`: link a provider account.
    #[cfg(feature = "oauth")]
    AssociateAuthorize { route: Arc<str> },
    /// `GET /auth/associate/{route}/callback`.
    #[cfg(feature = "oauth")]
    AssociateCallback { route: Arc<str> },
    /// `POST /auth/register`.
    Register,
    /// `POST /auth/forgot-password`.
    ForgotPassword,
    /// `POST /auth/reset-password`.
    ResetPassword,
    /// `POST /auth/request-verify-token`.
    RequestVerifyToken,
    /// `POST /auth/verify`.
    Verify,
    /// `GET /users/me`.
    CurrentUser,
    /// `PATCH /users/me`.
    PatchCurrentUser,
    /// `GET /users/me/sessions`.
    Sessions,
    /// `DELETE /users/me/sessions`: log out everywhere.
    DeleteSessions,
    /// `DELETE /users/me/sessions/{session_id}`.
    DeleteSession,
    /// `GET /users/me/oauth-accounts`: the provider accounts linked to the user.
    #[cfg(feature = "oauth")]
    OAuthAccounts,
    /// `DELETE /users/me/oauth-accounts/{oauth_name}/{account_id}`: unlink one.
    #[cfg(feature = "oauth")]
    DeleteOAuthAccount,
    /// `POST /auth/{backend}/login/2fa`: the second step of a sign-in.
    LoginSecondFactor { backend: Arc<str> },
    /// `GET /users/me/2fa`: where the user's second factor stands.
    TwoFactor,
    /// `POST /users/me/2fa/totp`: a new TOTP secret, pending.
    EnrolTotp,
    /// `POST /users/me/2fa/totp/confirm`: a code from it turns 2FA on.
    ConfirmTotp,
    /// `POST /users/me/2fa/recovery-codes`: new recovery codes.
    RecoveryCodes,
    /// `POST /users/me/2fa/disable`.
    DisableTwoFactor,
    /// `POST /users/me/2fa/forget-devices`.
    ForgetDevices,
    /// `DELETE /users/{id}/2fa`: a superuser turns a user's 2FA off.
    ResetTwoFactor,
    /// `GET /users`: the user list (admin).
    ListUsers,
    /// `POST /users/{id}/ban` (admin).
    BanUser,
    /// `POST /users/{id}/unban` (admin).
    UnbanUser,
    /// `POST /users/{id}/impersonate` (admin).
    Impersonate,
    /// `POST /auth/{backend}/stop-impersonating`.
    StopImpersonating { backend: Arc<str> },
    /// `GET /users/{id}`.
    User,
    /// `PATCH /users/{id}`.
    PatchUser,
    /// `DELETE /users/{id}`.
    DeleteUser,
    /// `GET /.well-known/jwks.json`.
    Jwks,
    /// `GET /users/me/security-events`: the user's audit trail.
    SecurityEvents,
    /// `GET /users/{id}/security-events`: a user's audit trail (superuser).
    UserSecurityEvents,
    /// A passkey route.
    #[cfg(feature = "passkeys")]
    Passkey(PasskeyOp),
    /// An API key route.
    ApiKey(ApiKeyOp),
}

/// The switch that serves a group of routes: turning it off removes them from the
/// router, the route table and the document alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Switch {
    /// A backend's routes: there while the backend is.
    Backend,
    /// An OAuth router: there while it is added.
    #[cfg(feature = "oauth")]
    OAuth,
    /// `register_router(false)` removes it.
    Register,
    /// Served with reset-password tokens configured.
    ResetPassword,
    /// Served with verification tokens configured.
    Verify,
    /// `users_router(false)` removes it.
    Users,
    /// Served while a backend signs with a public-key algorithm.
    Jwks,
    /// Served with a second factor configured (`WardenBuilder::two_factor`).
    TwoFactor,
    /// Served with the audit trail configured (`WardenBuilder::audit_trail`).
    AuditTrail,
    /// Served with a backend of strategy `api_key`.
    ApiKeys,
    /// Served with passkeys configured.
    #[cfg(feature = "passkeys")]
    Passkeys,
    /// Served with passkey sign-ups on.
    #[cfg(feature = "passkeys")]
    PasskeySignup,
}

impl Operation {
    /// The HTTP method.
    pub(crate) fn method(&self) -> HttpMethod {
        match self {
            Self::Login { .. }
            | Self::Logout { .. }
            | Self::Refresh { .. }
            | Self::Reauthenticate { .. }
            | Self::Register
            | Self::ForgotPassword
            | Self::ResetPassword
            | Self::RequestVerifyToken
            | Self::Verify
            | Self::LoginSecondFactor { .. }
            | Self::EnrolTotp
            | Self::ConfirmTotp
            | Self::RecoveryCodes
            | Self::DisableTwoFactor
            | Self::ForgetDevices
            | Self::BanUser
            | Self::UnbanUser
            | Self::Impersonate
            | Self::StopImpersonating { .. } => HttpMethod::Post,
            #[cfg(feature = "oauth")]
            Self::OAuthAuthorize { .. }
            | Self::OAuthCallback { .. }
            | Self::AssociateAuthorize { .. }
            | Self::AssociateCallback { .. } => HttpMethod::Get,
            Self::CurrentUser
            | Self::Sessions
            | Self::User
            | Self::Jwks
            | Self::TwoFactor
            | Self::ListUsers
            | Self::SecurityEvents
            | Self::UserSecurityEvents => HttpMethod::Get,
            #[cfg(feature = "oauth")]
            Self::OAuthAccounts => HttpMethod::Get,
            #[cfg(feature = "oauth")]
            Self::DeleteOAuthAccount => HttpMethod::Delete,
            Self::PatchCurrentUser | Self::PatchUser => HttpMethod::Patch,
            Self::DeleteSessions
            | Self::DeleteSession
            | Self::DeleteUser
            | Self::ResetTwoFactor => HttpMethod::Delete,
            #[cfg(feature = "passkeys")]
            Self::Passkey(op) => op.method(),
            Self::ApiKey(op) => op.method(),
        }
    }

    /// FastAPI Users' path (warden's own for the routes FastAPI Users lacks);
    /// [`route_path`](crate::WardenBuilder::route_path) may move it.
    pub(crate) fn default_path(&self) -> String {
        match self {
            Self::Login { backend } => format!("/auth/{backend}/login"),
            Self::Logout { backend } => format!("/auth/{backend}/logout"),
            Self::Refresh { backend } => format!("/auth/{backend}/refresh"),
            Self::Reauthenticate { backend } => format!("/auth/{backend}/reauthenticate"),
            #[cfg(feature = "oauth")]
            Self::OAuthAuthorize { route, .. } => format!("/auth/{route}/authorize"),
            #[cfg(feature = "oauth")]
            Self::OAuthCallback { route, .. } => format!("/auth/{route}/callback"),
            #[cfg(feature = "oauth")]
            Self::AssociateAuthorize { route } => format!("/auth/associate/{route}/authorize"),
            #[cfg(feature = "oauth")]
            Self::AssociateCallback { route } => format!("/auth/associate/{route}/callback"),
            Self::Register => "/auth/register".into(),
            Self::ForgotPassword => "/auth/forgot-password".into(),
            Self::ResetPassword => "/auth/reset-password".into(),
            Self::RequestVerifyToken => "/auth/request-verify-token".into(),
            Self::Verify => "/auth/verify".into(),
            Self::CurrentUser | Self::PatchCurrentUser => "/users/me".into(),
            Self::Sessions | Self::DeleteSessions => "/users/me/sessions".into(),
            Self::DeleteSession => "/users/me/sessions/{session_id}".into(),
            #[cfg(feature = "oauth")]
            Self::OAuthAccounts => "/users/me/oauth-accounts".into(),
            #[cfg(feature = "oauth")]
            Self::DeleteOAuthAccount => "/users/me/oauth-accounts/{oauth_name}/{account_id}".into(),
            Self::User | Self::PatchUser | Self::DeleteUser => "/users/{id}".into(),
            Self::ListUsers => "/users".into(),
            Self::BanUser => "/users/{id}/ban".into(),
            Self::UnbanUser => "/users/{id}/unban".into(),
            Self::Impersonate => "/users/{id}/impersonate".into(),
            Self::StopImpersonating { backend } => format!("/auth/{backend}/stop-impersonating"),
            Self::Jwks => "/.well-known/jwks.json".into(),
            Self::LoginSecondFactor { backend } => format!("/auth/{backend}/login/2fa"),
            Self::TwoFactor => "/users/me/2fa".into(),
            Self::EnrolTotp => "/users/me/2fa/totp".into(),
            Self::ConfirmTotp => "/users/me/2fa/totp/confirm".into(),
            Self::RecoveryCodes => "/users/me/2fa/recovery-codes".into(),
            Self::DisableTwoFactor => "/users/me/2fa/disable".into(),
            Self::ForgetDevices => "/users/me/2fa/forget-devices".into(),
            Self::ResetTwoFactor => "/users/{id}/2fa".into(),
            Self::SecurityEvents => "/users/me/security-events".into(),
            Self::UserSecurityEvents => "/users/{id}/security-events".into(),
            #[cfg(feature = "passkeys")]
            Self::Passkey(op) => op.default_path(),
            Self::ApiKey(op) => op.default_path(),
        }
    }

    /// The switch that serves it.
    pub(crate) fn switch(&self) -> Switch {
        match self {
            Self::Login { .. }
            | Self::Logout { .. }
            | Self::Refresh { .. }
            | Self::Reauthenticate { .. } => Switch::Backend,
            // Served with the users router that serves the impersonation.
            Self::StopImpersonating { .. } => Switch::Users,
            #[cfg(feature = "oauth")]
            Self::OAuthAuthorize { .. }
            | Self::OAuthCallback { .. }
            | Self::AssociateAuthorize { .. }
            | Self::AssociateCallback { .. } => Switch::OAuth,
            Self::Register => Switch::Register,
            Self::ForgotPassword | Self::ResetPassword => Switch::ResetPassword,
            Self::RequestVerifyToken | Self::Verify => Switch::Verify,
            Self::CurrentUser
            | Self::PatchCurrentUser
            | Self::Sessions
            | Self::DeleteSessions
            | Self::DeleteSession
            | Self::User
            | Self::PatchUser
            | Self::DeleteUser
            | Self::ListUsers
            | Self::BanUser
            | Self::UnbanUser
            | Self::Impersonate => Switch::Users,
            #[cfg(feature = "oauth")]
            Self::OAuthAccounts | Self::DeleteOAuthAccount => Switch::Users,
            Self::Jwks => Switch::Jwks,
            Self::LoginSecondFactor { .. }
            | Self::TwoFactor
            | Self::EnrolTotp
            | Self::ConfirmTotp
            | Self::RecoveryCodes
            | Self::DisableTwoFactor
            | Self::ForgetDevices
            | Self::ResetTwoFactor => Switch::TwoFactor,
            Self::SecurityEvents | Self::UserSecurityEvents => Switch::AuditTrail,
            #[cfg(feature = "passkeys")]
            Self::Passkey(op) => op.switch(),
            Self::ApiKey(_) => Switch::ApiKeys,
        }
    }

    /// The backend whose sign-in routes these are (login, logout, refresh,
    /// reauthenticate), for [`Warden::backend_routes`](crate::Warden::backend_routes).
    pub(crate) fn backend(&self) -> Option<&str> {
        match self {
            Self::Login { backend }
            | Self::Logout { backend }
            | Self::Refresh { backend }
            | Self::Reauthenticate { backend }
            | Self::LoginSecondFactor { backend }
            | Self::StopImpersonating { backend } => Some(backend),
            _ => None,
        }
    }

    /// Whether the handler reads the user id from the path (`{id}`).
    pub(crate) fn needs_id(&self) -> bool {
        matches!(
            self,
            Self::User
                | Self::PatchUser
                | Self::DeleteUser
                | Self::ResetTwoFactor
                | Self::BanUser
                | Self::UnbanUser
                | Self::Impersonate
                | Self::UserSecurityEvents
                | Self::ApiKey(ApiKeyOp::UserList | ApiKeyOp::UserDelete)
        )
    }
}

/// FastAPI Users' route name (`auth:jwt.login`, `users:current_user`, ...): what
/// [`route_path`](crate::WardenBuilder::route_path) takes, the document's summary,
/// and the start of its operation id.
impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Login { backend } => write!(f, "auth:{backend}.login"),
            Self::Logout { backend } => write!(f, "auth:{backend}.logout"),
            Self::Refresh { backend } => write!(f, "auth:{backend}.refresh"),
            Self::Reauthenticate { backend } => write!(f, "auth:{backend}.reauthenticate"),
            #[cfg(feature = "oauth")]
            Self::OAuthAuthorize { route, backend } => {
                write!(f, "oauth:{route}.{backend}.authorize")
            }
            #[cfg(feature = "oauth")]
            Self::OAuthCallback { route, backend } => write!(f, "oauth:{route}.{backend}.callback"),
            #[cfg(feature = "oauth")]
            Self::AssociateAuthorize { route } => write!(f, "oauth-associate:{route}.authorize"),
            #[cfg(feature = "oauth")]
            Self::AssociateCallback { route } => write!(f, "oauth-associate:{route}.callback"),
            Self::Register => f.write_str("register:register"),
            Self::ForgotPassword => f.write_str("reset:forgot_password"),
            Self::ResetPassword => f.write_str("reset:reset_password"),
            Self::RequestVerifyToken => f.write_str("verify:request-token"),
            Self::Verify => f.write_str("verify:verify"),
            Self::CurrentUser => f.write_str("users:current_user"),
            Self::PatchCurrentUser => f.write_str("users:patch_current_user"),
            Self::Sessions => f.write_str("users:sessions"),
            Self::DeleteSessions => f.write_str("users:delete_sessions"),
            Self::DeleteSession => f.write_str("users:delete_session"),
            #[cfg(feature = "oauth")]
            Self::OAuthAccounts => f.write_str("users:oauth_accounts"),
            #[cfg(feature = "oauth")]
            Self::DeleteOAuthAccount => f.write_str("users:delete_oauth_account"),
            Self::User => f.write_str("users:user"),
            Self::PatchUser => f.write_str("users:patch_user"),
            Self::DeleteUser => f.write_str("users:delete_user"),
            Self::ListUsers => f.write_str("users:list_users"),
            Self::BanUser => f.write_str("users:ban_user"),
            Self::UnbanUser => f.write_str("users:unban_user"),
            Self::Impersonate => f.write_str("users:impersonate"),
            Self::StopImpersonating { backend } => write!(f, "auth:{backend}.stop_impersonating"),
            Self::Jwks => f.write_str("jwks:keys"),
            Self::LoginSecondFactor { backend } => write!(f, "auth:{backend}.login_2fa"),
            Self::TwoFactor => f.write_str("users:two_factor"),
            Self::EnrolTotp => f.write_str("users:enrol_totp"),
            Self::ConfirmTotp => f.write_str("users:confirm_totp"),
            Self::RecoveryCodes => f.write_str("users:recovery_codes"),
            Self::DisableTwoFactor => f.write_str("users:disable_two_factor"),
            Self::ForgetDevices => f.write_str("users:forget_devices"),
            Self::ResetTwoFactor => f.write_str("users:reset_two_factor"),
            Self::SecurityEvents => f.write_str("users:security_events"),
            Self::UserSecurityEvents => f.write_str("users:user_security_events"),
            #[cfg(feature = "passkeys")]
            Self::Passkey(op) => op.fmt(f),
            Self::ApiKey(op) => op.fmt(f),
        }
    }
}
