//! The one authentication pipeline: transport → strategy → store → policy. The
//! guards ([`CurrentUser`](crate::CurrentUser), `#[protected]`, a model parameter)
//! and every built-in route go through [`Authenticator::authenticate`] and
//! [`Access::admit`]. The [`Authenticator`] is a value the
//! [`Warden`](crate::Warden) holds: the backends, the manager and the origins,
//! nothing of routing or documentation, so the pipeline depends on no route.

use std::sync::Arc;

use axum::http::{HeaderMap, Method};

use crate::backend::SessionConfig;
use crate::error::{ApiError, ErrorCode};
use crate::manager::UserManager;
use crate::model::{UserId, UserModel};
use crate::second_factor::{SecondFactor, has_second_factor};
use crate::session::Admission;
use crate::strategy::{KeyAccess, Strategy};
use crate::transport::Transport;

/// A backend as the pipeline runs it: a name, a strategy, a transport and how long
/// its logins last.
pub(crate) struct BackendEntry {
    pub(crate) name: String,
    pub(crate) strategy: Arc<dyn Strategy>,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) sessions: SessionConfig,
}

impl BackendEntry {
    /// The end of a session that starts at `created_at`.
    pub(crate) fn max_age(&self, created_at: i64) -> Option<i64> {
        self.sessions
            .max_age
            .map(|age| created_at.saturating_add(i64::try_from(age).unwrap_or(i64::MAX)))
    }
}

/// The request pipeline: the backends in the order they are tried, the user manager
/// that reads their users and sessions, and the origins allowed to send
/// cookie-authenticated requests that change state. Reach it through
/// [`Warden::authenticator`](crate::Warden::authenticator).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use axum::http::HeaderMap;
/// use warden_runtime::{JwtStrategy, Lifetime, MemoryStore, User, Warden};
/// let jwt = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(60)).build()?;
/// let warden = Warden::<User>::builder().store(MemoryStore::new()).strategy("jwt", jwt).build()?;
/// // No credential: no user, and no error.
/// let headers = HeaderMap::new();
/// let found = warden.authenticator().authenticate(&headers, None).await;
/// assert!(matches!(found, Ok(None)));
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub struct Authenticator<U: UserModel> {
    pub(crate) backends: Vec<BackendEntry>,
    pub(crate) manager: UserManager<U>,
    pub(crate) allowed_origins: Vec<String>,
    /// The second factor, when configured: its policy limits sessions without one.
    pub(crate) second_factor: Option<Arc<SecondFactor>>,
}

/// Whether a route serves a session the two-factor policy limits (a user who must
/// enrol and has not): only enrolment, `GET /users/me`, `GET /users/me/2fa` and
/// logout do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Enrolling {
    /// Refused with 403 `TWO_FACTOR_ENROLMENT_REQUIRED`: every other route, the
    /// application's guarded ones included.
    Refused,
    /// Served.
    Served,
}

impl<U: UserModel> std::fmt::Debug for Authenticator<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field(
                "backends",
                &self.backends.iter().map(|b| &b.name).collect::<Vec<_>>(),
            )
            .field("allowed_origins", &self.allowed_origins)
            .finish_non_exhaustive()
    }
}

/// What a route demands of its user: the one form of the access rule, which the
/// static [`Policy`](crate::Policy) markers compile down to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Access {
    /// An inactive user is refused with 401 (FastAPI Users' rule).
    pub active: bool,
    /// An unverified user is refused with 403.
    pub verified: bool,
    /// A user who is not a superuser is refused with 403.
    pub superuser: bool,
    /// A sign-in older than this many seconds is refused with 401 and RFC 9470's
    /// `insufficient_user_authentication` challenge (`fresh = N`).
    pub fresh: Option<u32>,
    /// A session whose sign-in had no second factor (its `amr` lacks RFC 8176's
    /// `mfa`: a password alone, a provider that did not say it checked one) is
    /// refused with 401 and RFC 9470's `insufficient_user_authentication`
    /// challenge naming the warden's `acr_values` (`mfa`).
    pub mfa: bool,
    /// Which kinds of credential the route admits: every kind, a sign-in only (no
    /// API key), or the user's own sign-in (no key, no impersonation: the routes
    /// that change credentials).
    pub caller: Caller,
    /// An API key must hold this scope: refused with 403 and RFC 6750's
    /// `insufficient_scope` challenge otherwise. An interactive session holds
    /// every scope (`scope = Scope::X`).
    pub scope: Option<&'static str>,
    /// The user must hold one of these roles: refused with 403 otherwise
    /// (`role = Role::X`, `any_role(Role::X, Role::Y)`).
    pub roles: Option<RoleRule>,
}

/// Which kinds of credential a route admits, from the widest to the narrowest; a
/// rule combined with another takes the narrower.
///
/// ```
/// use warden_runtime::authn::{Access, Caller};
/// let listing = Access { caller: Caller::SignedIn, ..Access::ACTIVE };
/// let changing = Access { caller: Caller::Owner, ..Access::ANY };
/// assert_eq!(listing.and(changing).caller, Caller::Owner);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Caller {
    /// A session, an API key or a superuser's impersonation.
    #[default]
    Any,
    /// A sign-in, the user's own or a superuser's impersonation; an API key is
    /// refused with 403 (listing one's sessions, keys, factors).
    SignedIn,
    /// The user's own sign-in: an API key is refused with 403, an impersonation
    /// with 403 `IMPERSONATION_FORBIDDEN` (changing a password, an e-mail, a second
    /// factor, a passkey, a linked account, a key). `fresh` and `mfa` ask it too:
    /// neither a key nor a superuser proved a factor of the user's.
    Owner,
}

/// `any_role(...)`: the application's role names (its `#[derive(Roles)]` enum's, in
/// order) and a bit per admitted role, by index. Checked by name against the
/// user's roles, so a rule always means what its enum says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleRule {
    /// Every role's name, in the order of the enum's variants.
    pub names: &'static [&'static str],
    /// Bit `i` admits `names[i]`.
    pub mask: u64,
}

impl RoleRule {
    /// Whether `user` holds one of the admitted roles.
    pub fn admits<U: UserModel>(self, user: &U) -> bool {
        self.names
            .iter()
            .enumerate()
            .any(|(index, name)| index < 64 && self.mask & (1 << index) != 0 && user.has_role(name))
    }
}

impl Access {
    /// Any authenticated user (FastAPI Users' `current_user()`).
    pub const ANY: Self = Self {
        active: false,
        verified: false,
        superuser: false,
        fresh: None,
        mfa: false,
        caller: Caller::Any,
        scope: None,
        roles: None,
    };
    /// An active user (`current_user(active=True)`).
    pub const ACTIVE: Self = Self {
        active: true,
        ..Self::ANY
    };
    /// An active superuser (`current_user(active=True, superuser=True)`).
    pub const SUPERUSER: Self = Self {
        active: true,
        superuser: true,
        ..Self::ANY
    };

    /// Both rules at once.
    pub const fn and(self, other: Self) -> Self {
        Self {
            active: self.active || other.active,
            verified: self.verified || other.verified,
            superuser: self.superuser || other.superuser,
            mfa: self.mfa || other.mfa,
            caller: if (self.caller as u8) < (other.caller as u8) {
                other.caller
            } else {
                self.caller
            },
            // One scope per rule: the first one set.
            scope: match self.scope {
                Some(scope) => Some(scope),
                None => other.scope,
            },
            // One role rule per guard: `any_role(A, B)` says "either"; two rules
            // would need a meaning (both? either?) nobody could read off the guard.
            roles: match (self.roles, other.roles) {
                (Some(_), Some(_)) => {
                    panic!(
                        "a guard takes one role rule: write `any_role(A, B)` for either of two roles"
                    )
                }
                (Some(rule), None) | (None, Some(rule)) => Some(rule),
                (None, None) => None,
            },
            // The stricter of two freshness rules.
            fresh: match (self.fresh, other.fresh) {
                (Some(a), Some(b)) => Some(if a < b { a } else { b }),
                (Some(a), None) | (None, Some(a)) => Some(a),
                (None, None) => None,
            },
        }
    }

    /// Whether a sign-in at `auth_time` is fresh enough at `now`: an unknown
    /// sign-in time never is.
    ///
    /// ```
    /// use warden_runtime::authn::Access;
    /// let fresh = Access { fresh: Some(300), ..Access::ACTIVE };
    /// assert!(fresh.fresh_enough(Some(1_000), 1_300));
    /// assert!(!fresh.fresh_enough(Some(1_000), 1_301));
    /// assert!(!fresh.fresh_enough(None, 1_000));
    /// assert!(Access::ACTIVE.fresh_enough(None, 1_000));
    /// ```
    pub fn fresh_enough(self, auth_time: Option<i64>, now: i64) -> bool {
        match self.fresh {
            None => true,
            Some(max_age) => {
                auth_time.is_some_and(|at| now.saturating_sub(at) <= i64::from(max_age))
            }
        }
    }

    /// Applies the rule as FastAPI Users' `_authenticate` does: 401 for no user or
    /// (with `active`) an inactive one, 403 for a failed `verified` or `superuser`.
    ///
    /// ```
    /// use warden_runtime::authn::Access;
    /// use warden_runtime::User;
    /// assert_eq!(Access::ACTIVE.admit(None::<User>).unwrap_err().status(), 401);
    /// ```
    pub fn admit<U: UserModel>(self, user: Option<U>) -> Result<U, ApiError> {
        let user = user.ok_or_else(ApiError::unauthorized)?;
        if self.active && !user.is_active() {
            return Err(ApiError::unauthorized());
        }
        if (self.verified && !user.is_verified()) || (self.superuser && !user.is_superuser()) {
            return Err(ApiError::forbidden());
        }
        // A superuser passes `superuser` guards, not role guards: roles are the
        // application's own, given to superusers too where it means them to hold.
        if let Some(rule) = self.roles
            && !rule.admits(&user)
        {
            return Err(ApiError::forbidden());
        }
        Ok(user)
    }
}

/// Who a request authenticated as, and through which backend and token (borrowed
/// from the warden and the request: nothing is copied for the many guards that only
/// need the user).
#[derive(Debug, Clone)]
pub struct Authenticated<'a, U> {
    /// The user, as stored now.
    pub user: U,
    /// The backend whose token it was.
    pub backend: &'a str,
    /// The token.
    pub token: &'a str,
    /// Whether the token came in a cookie the browser sends by itself (see
    /// [`Transport::ambient`](crate::Transport::ambient)).
    pub ambient: bool,
    /// The token's session, or why it has none.
    pub session: Admission,
    /// When the token was issued, if known.
    pub issued_at: Option<i64>,
    /// When the user last proved who they are, as this token knows it: its own
    /// `auth_time`, else its session's last sign-in, else its issue time (a token
    /// without a session was issued at its login).
    pub auth_time: Option<i64>,
    /// How they proved it (RFC 8176), as the token or its session says.
    pub amr: Arc<[String]>,
    /// The superuser acting as the user, by id, when the session is an
    /// impersonation (`POST /users/{id}/impersonate`; the JWT's `act` claim).
    pub actor: Option<Arc<str>>,
    /// The API key the request came with, if it did: its id and scopes.
    pub api_key: Option<Arc<KeyAccess>>,
}

impl<U: UserModel> Authenticator<U> {
    /// The user manager.
    pub fn manager(&self) -> &UserManager<U> {
        &self.manager
    }

    /// The second factor, when configured.
    pub(crate) fn second_factor(&self) -> Option<&SecondFactor> {
        self.second_factor.as_deref()
    }

    /// The backends, in the order they are tried.
    pub(crate) fn backends(&self) -> &[BackendEntry] {
        &self.backends
    }

    /// The backend named `name`.
    pub(crate) fn backend(&self, name: &str) -> Option<&BackendEntry> {
        self.backends.iter().find(|b| b.name == name)
    }

    /// The other origins whose pages may send cookie-authenticated requests that
    /// change state.
    pub fn allowed_origins(&self) -> &[String] {
        &self.allowed_origins
    }

    /// The user a request authenticates as, trying the backends in order (or only the
    /// one named `only`): the first backend whose transport finds a token that its
    /// strategy accepts and whose subject names a stored user. A missing, malformed,
    /// expired or foreign token, or a subject naming nobody, is `Ok(None)`; a store or
    /// token storage out of reach is a 503.
    pub async fn authenticate<'a>(
        &'a self,
        headers: &'a HeaderMap,
        only: Option<&str>,
    ) -> Result<Option<Authenticated<'a, U>>, ApiError> {
        for backend in self
            .backends
            .iter()
            .filter(|b| only.is_none_or(|name| b.name == name))
        {
            let Some(token) = backend.transport.token(headers) else {
                continue;
            };
            let Some(info) = backend.strategy.read_token(token).await? else {
                continue;
            };
            // Checked wherever a token is accepted: guards, refresh, logout, the users
            // routes all come through here.
            let session = self.manager.sessions().admit(&info).await?;
            if session == Admission::Refused {
                tracing::debug!(backend = %backend.name, "token of an ended session refused");
                continue;
            }
            let Some(id) = U::Id::parse(&info.subject) else {
                tracing::debug!(backend = %backend.name, "token subject is not a user id");
                continue;
            };
            let Some(user) = self.manager.get(&id).await? else {
                continue;
            };
            // A key of a deactivated user is over, whatever the route asks: a
            // machine client has no one to tell "your account is inactive".
            if info.api_key.is_some() && !user.is_active() {
                tracing::debug!(backend = %backend.name, "API key of an inactive user refused");
                continue;
            }
            // Nor does a key outlast its user's ban: keys are not sessions, so the
            // ban's cut-off cannot reach them; the ban row is read instead, on every
            // instance, for as long as the ban lasts.
            if info.api_key.is_some() && self.manager.banned(&user).await?.is_some() {
                tracing::debug!(backend = %backend.name, "API key of a banned user refused");
                continue;
            }
            {
                let actor = match &session {
                    Admission::Session { actor, .. } => actor.clone(),
                    _ => None,
                };
                let (auth_time, amr) = match &session {
                    Admission::Session {
                        authenticated_at,
                        amr,
                        ..
                    } => (
                        info.auth_time.unwrap_or(*authenticated_at),
                        // The token's own proof, and what its session proved since:
                        // a second factor confirmed in this session (enrolment)
                        // counts for the tokens it already holds.
                        if info.amr.is_empty() {
                            Arc::clone(amr)
                        } else if amr.iter().all(|value| info.amr.contains(value)) {
                            info.amr
                        } else {
                            let mut both = info.amr.to_vec();
                            both.extend(amr.iter().filter(|v| !info.amr.contains(v)).cloned());
                            both.into()
                        },
                    ),
                    _ => (info.auth_time.or(info.issued_at).unwrap_or(0), info.amr),
                };
                // A key never signed in: no sign-in time, so `fresh` never holds.
                let auth_time = if info.api_key.is_some() { 0 } else { auth_time };
                return Ok(Some(Authenticated {
                    user,
                    backend: &backend.name,
                    token,
                    ambient: backend.transport.ambient(),
                    session,
                    issued_at: info.issued_at,
                    auth_time: (auth_time > 0).then_some(auth_time),
                    amr,
                    actor,
                    api_key: info.api_key,
                }));
            }
        }
        Ok(None)
    }

    /// [`authenticate`](Self::authenticate), then `access`: the user of a guarded request, or its 401/403.
    /// A state-changing request (by `method`) authenticated by a cookie must come from
    /// the application's own origin or an allowed one: 403 otherwise (CSRF).
    ///
    /// A session of a user the two-factor policy requires a second factor of, signed
    /// in without one, is refused with 403 `TWO_FACTOR_ENROLMENT_REQUIRED`; `access.mfa`
    /// refuses any session without one with RFC 9470's challenge.
    pub async fn authorize<'a>(
        &'a self,
        method: &Method,
        headers: &'a HeaderMap,
        only: Option<&str>,
        access: Access,
    ) -> Result<Authenticated<'a, U>, ApiError> {
        self.authorize_in(method, headers, only, access, Enrolling::Refused)
            .await
    }

    /// [`authorize`](Self::authorize), for a route that also serves (`Served`) or
    /// does not serve a session the two-factor policy limits.
    pub(crate) async fn authorize_in<'a>(
        &'a self,
        method: &Method,
        headers: &'a HeaderMap,
        only: Option<&str>,
        access: Access,
        enrolling: Enrolling,
    ) -> Result<Authenticated<'a, U>, ApiError> {
        let Some(found) = self.authenticate(headers, only).await? else {
            // No user at all: 401 whatever the rule; `invalid_token` when the request
            // did carry a credential (RFC 6750 §3.1), so a client signs in again.
            let presented = self
                .backends
                .iter()
                .filter(|b| only.is_none_or(|name| b.name == name))
                .any(|b| b.transport.token(headers).is_some());
            return Err(if presented {
                ApiError::invalid_token()
            } else {
                ApiError::unauthorized()
            });
        };
        let ambient = found.ambient;
        // A token of an inactive user is a credential refused too.
        let user = access
            .admit(Some(found.user))
            .map_err(ApiError::into_invalid_token)?;
        crate::csrf::check(method, headers, ambient, &self.allowed_origins)?;
        // `fresh` and `mfa` ask for the user's own sign-in: a superuser acting as
        // the user, or a key, proved no factor of theirs (and re-authenticating
        // cannot make it so).
        let caller = if access.fresh.is_some() || access.mfa {
            Caller::Owner
        } else {
            access.caller
        };
        if found.actor.is_some() && caller == Caller::Owner {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                ErrorCode::ImpersonationForbidden.as_str().into(),
            ));
        }
        if let Some(key) = &found.api_key {
            // No challenge a key could answer: 403.
            if caller != Caller::Any {
                return Err(ApiError::forbidden());
            }
            if let Some(scope) = access.scope
                && !key.holds(scope)
            {
                return Err(ApiError::insufficient_scope(scope));
            }
        }
        if let Some(max_age) = access.fresh
            && !access.fresh_enough(found.auth_time, self.manager.sessions().clock().now())
        {
            return Err(ApiError::reauthentication_required(max_age));
        }
        let second = has_second_factor(&found.amr);
        if let Some(factor) = &self.second_factor
            && !second
            && enrolling == Enrolling::Refused
            // A key was created by a session the policy admitted (key creation
            // needs a fresh sign-in through this check).
            && found.api_key.is_none()
            && factor.required_for(&user)
        {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                ErrorCode::TwoFactorEnrolmentRequired.as_str().into(),
            ));
        }
        if access.mfa && !second {
            let acr = self
                .second_factor
                .as_ref()
                .map_or(crate::second_factor::DEFAULT_ACR, |factor| factor.acr());
            return Err(ApiError::second_factor_required(acr, access.fresh));
        }
        Ok(Authenticated { user, ..found })
    }
}
