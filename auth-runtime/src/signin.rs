//! The one sign-in step. Every way in — a password on any backend (form or JSON,
//! e-mail or username), a provider's callback, a refresh token, an access-token
//! refresh (FastAPI Users' recipe), the database and Redis strategies, a
//! re-authentication — proves a credential in its route and then comes here: only
//! this step grants a session. It checks the user and the application's policy,
//! opens a session (a *start*: `on_after_login` fires, as FastAPI Users fires it on
//! login and on the OAuth callback only), continues one (a refresh: no hook, the
//! sign-in time and `amr` kept) or renews one (a re-authentication: a new sign-in
//! time and `amr` in the same session), and records how the user proved who they
//! are: `auth_time` and `amr` (RFC 8176).

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::audit::{Client, SecurityEvent};
use crate::error::ApiError;
pub use crate::manager::{SignIn, SignInKind};
use crate::model::UserModel;
use crate::session::{Session, random_id};
use crate::store::StoreError;
use crate::strategy::{Grant, StrategyError};
use crate::warden::Warden;

/// RFC 8176 has no value for a sign-in through an identity provider; warden
/// records this one when the provider's ID token names no `amr` of its own.
pub const FEDERATED_AMR: &str = "fed";

/// How a user proved who they are.
///
/// ```
/// use warden_runtime::signin::Proof;
/// assert_eq!(Proof::Password.amr(), ["pwd"]);
/// let github = Proof::Provider { provider: "github".into(), amr: Vec::new() };
/// assert_eq!(github.amr(), ["fed"]);
/// assert_eq!(Proof::Passkey { backup_eligible: true }.amr(), ["swk", "mfa"]);
/// assert_eq!(Proof::Passkey { backup_eligible: false }.amr(), ["hwk", "mfa"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Proof {
    /// A password: RFC 8176 `pwd`.
    Password,
    /// A second factor after a first one: the second step of a sign-in, answering
    /// the `mfa_token` the first factor got.
    SecondFactor {
        /// What the first factor proved (the `mfa_token` kept it).
        first: Vec<String>,
        /// The second factor.
        factor: crate::second_factor::Factor,
    },
    /// An identity provider's login.
    Provider {
        /// The provider's name (the OAuth client's).
        provider: String,
        /// The `amr` of the provider's ID token; empty when it has none, and the
        /// sign-in then records [`FEDERATED_AMR`].
        amr: Vec<String>,
    },
    /// A passkey, with user verification (its PIN or biometric): RFC 8176 `hwk`
    /// (a device-bound key) or `swk` (a backup-eligible, synced one), and `mfa`,
    /// as the device and what unlocks it are two factors.
    Passkey {
        /// The authenticator's backup-eligible flag (WebAuthn Level 3 §6.1).
        backup_eligible: bool,
    },
}

impl Proof {
    /// The RFC 8176 `amr` values the sign-in records.
    pub fn amr(&self) -> Vec<String> {
        match self {
            Self::Password => vec!["pwd".to_owned()],
            Self::SecondFactor { first, factor } => {
                let mut amr = first.clone();
                for value in factor.amr() {
                    if !amr.iter().any(|known| known == value) {
                        amr.push(value.to_owned());
                    }
                }
                amr
            }
            Self::Provider { amr, .. } if !amr.is_empty() => amr.clone(),
            Self::Provider { .. } => vec![FEDERATED_AMR.to_owned()],
            Self::Passkey { backup_eligible } => {
                let key = if *backup_eligible { "swk" } else { "hwk" };
                vec![key.to_owned(), "mfa".to_owned()]
            }
        }
    }
}

/// Why the step refused: each route answers it with its own refusal (400
/// `LOGIN_BAD_CREDENTIALS`, `invalid_grant`, 401, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The user is inactive.
    Inactive,
    /// The warden requires verified users and this one is not.
    Unverified,
    /// The application's [`UserEvents::admit`](crate::UserEvents::admit) said no,
    /// or the session ended meanwhile.
    Denied,
    /// The user is banned, until then (Unix seconds) or, `None`, until lifted.
    Banned(Option<i64>),
}

/// The step's failure: a refusal the route words, or an error it passes on.
#[derive(Debug)]
pub(crate) enum Failure {
    Refused(Refusal),
    Error(ApiError),
}

impl Failure {
    /// The route's answer: `refusal` words a refusal, errors pass as they are.
    pub(crate) fn answer(self, refusal: impl FnOnce(Refusal) -> ApiError) -> ApiError {
        match self {
            Self::Refused(why) => refusal(why),
            Self::Error(error) => error,
        }
    }
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Self::Error(error)
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Self::Error(error.into())
    }
}

impl From<StrategyError> for Failure {
    fn from(error: StrategyError) -> Self {
        Self::Error(error.into())
    }
}

/// The session a refresh or a re-authentication goes on with.
#[derive(Debug, Clone)]
pub(crate) struct Ongoing {
    /// Its id; `None` for a token without a session (FastAPI Users'), whose
    /// continuation opens one from the token's own issue time.
    pub(crate) id: Option<String>,
    /// The login time.
    pub(crate) created_at: i64,
    /// The session's end.
    pub(crate) expires_at: Option<i64>,
    /// The last sign-in.
    pub(crate) authenticated_at: i64,
    /// How it was proved.
    pub(crate) amr: Vec<String>,
    /// The presented token, when it names no session (FastAPI Users' own): the
    /// session its refresh opens adopts it, so that ending that session ends it.
    pub(crate) adopt: Option<String>,
    /// The superuser acting as the user, in an impersonation session.
    pub(crate) actor: Option<String>,
}

impl Ongoing {
    /// The session as the store keeps it.
    pub(crate) fn of(session: &Session) -> Self {
        Self {
            id: Some(session.id.clone()),
            created_at: session.created_at,
            expires_at: session.expires_at,
            authenticated_at: session.authenticated_at,
            amr: session.amr.clone(),
            adopt: None,
            actor: session.actor.clone(),
        }
    }
}

/// What the step is asked for.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// A new login, proved so.
    Start(Proof),
    /// A refresh of this session, by what the client presented.
    Continue(Ongoing, Via),
    /// A re-authentication of this session, proved so.
    Reauthenticate(Ongoing, Proof),
    /// An impersonation: the superuser of this id acts as the user, in a session
    /// of at most [`IMPERSONATION_SECONDS`] that no factor of the user's proved
    /// (no `amr`, so never `mfa`; its sign-in time is never fresh), without a
    /// refresh token.
    Impersonate(String),
}

/// The longest an impersonation session lives, in seconds.
pub const IMPERSONATION_SECONDS: i64 = 3600;

/// What a refresh presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// A refresh token (RFC 6749 §6): answered with the next one of its chain.
    RefreshToken,
    /// A valid access token (FastAPI Users' recipe): answered with an access token
    /// only. Were it to buy a refresh token too, anyone holding an access token for
    /// a moment could start a refresh chain of their own beside the client's
    /// (RFC 9700 §4.14: refresh tokens are issued at the login, then rotated).
    AccessToken,
}

impl Step {
    fn kind(&self) -> SignInKind {
        match self {
            Self::Start(_) | Self::Impersonate(_) => SignInKind::Start,
            Self::Continue(..) => SignInKind::Continue,
            Self::Reauthenticate(..) => SignInKind::Reauthenticate,
        }
    }
}

/// The one sign-in step: checks `user` and the policy, opens, continues or renews
/// the session, has the backend's strategy write a token of it (and a refresh token
/// if the backend issues them) and answers the backend's login response.
pub(crate) async fn sign_in<U: UserModel>(
    warden: &Warden<U>,
    backend: &str,
    user: &U,
    step: Step,
    request: &Request<'_>,
) -> Result<Response, Failure> {
    let kind = step.kind();
    let actor = match &step {
        Step::Impersonate(actor) => Some(actor.clone()),
        _ => None,
    };
    let result = grant(warden, backend, user, step, request).await;
    let audit = warden.manager().audit();
    match &result {
        Ok(Granted::Session(..)) if actor.is_some() => {
            audit.emit(|| SecurityEvent::ImpersonationStarted {
                user_id: user.id().to_string(),
                actor: actor.clone().unwrap_or_default(),
                backend: backend.to_owned(),
                client: request.client(),
            });
        }
        Ok(Granted::Challenged(_)) => audit.emit(|| SecurityEvent::SecondFactorRequested {
            user_id: user.id().to_string(),
            backend: backend.to_owned(),
            client: request.client(),
        }),
        Ok(Granted::Session(_, amr)) => audit.emit(|| SecurityEvent::SignIn {
            user_id: user.id().to_string(),
            backend: backend.to_owned(),
            kind: match kind {
                SignInKind::Start => "start",
                SignInKind::Continue => "continue",
                SignInKind::Reauthenticate => "reauthenticate",
            },
            amr: amr.clone(),
            client: request.client(),
        }),
        Err(Failure::Refused(why)) => audit.emit(|| SecurityEvent::SignInRefused {
            user_id: Some(user.id().to_string()),
            backend: backend.to_owned(),
            reason: match why {
                Refusal::Inactive => "inactive",
                Refusal::Unverified => "unverified",
                Refusal::Denied => "denied",
                Refusal::Banned(_) => "banned",
            },
            client: request.client(),
        }),
        Err(Failure::Error(_)) => {}
    }
    result.map(|granted| match granted {
        Granted::Session(response, _) | Granted::Challenged(response) => response,
    })
}

/// What the step granted: a session (its response and the `amr` it recorded), or,
/// for a user with a second factor whose first factor alone came, a challenge.
enum Granted {
    Session(Response, Vec<String>),
    Challenged(Response),
}

/// The request a sign-in comes from: its headers and the client's address.
#[derive(Clone, Copy)]
pub(crate) struct Request<'a> {
    pub(crate) headers: &'a HeaderMap,
    pub(crate) address: Option<std::net::IpAddr>,
}

impl<'a> Request<'a> {
    /// The request with these headers, from the client address the warden reads
    /// off it (through trusted proxies).
    pub(crate) fn new<U: UserModel>(
        warden: &Warden<U>,
        extensions: &axum::http::Extensions,
        headers: &'a HeaderMap,
    ) -> Self {
        Self {
            headers,
            address: warden.client_address(extensions, headers),
        }
    }

    /// Who sent it, for security events.
    pub(crate) fn client(&self) -> Client {
        Client::of_request(self.address, self.headers)
    }
}

/// The step proper.
async fn grant<U: UserModel>(
    warden: &Warden<U>,
    backend: &str,
    user: &U,
    step: Step,
    request: &Request<'_>,
) -> Result<Granted, Failure> {
    let headers = request.headers;
    if !user.is_active() {
        return Err(Failure::Refused(Refusal::Inactive));
    }
    if warden.requires_verification() && !user.is_verified() {
        return Err(Failure::Refused(Refusal::Unverified));
    }
    // Every way in comes here, so a ban is refused for all of them alike; before
    // the second factor, which a banned user has no use for.
    let user_id = user.id().to_string();
    if let Some(ban) = warden.manager().banned_id(&user_id).await? {
        return Err(Failure::Refused(Refusal::Banned(ban.until)));
    }
    let entry = warden.backend(backend).ok_or_else(ApiError::internal)?;
    let sessions = warden.manager().sessions();
    let now = sessions.clock().now();
    let kind = step.kind();
    let impersonation = matches!(step, Step::Impersonate(_));
    // An impersonation has no refresh token: it ends within the hour, and a
    // refresh continues it (keeping its `act`) within that end.
    let chains = !matches!(step, Step::Continue(_, Via::AccessToken)) && !impersonation;
    // The session the tokens will name, and whether the strategy's session must be
    // recorded (a new one, or one a custom strategy ties its token to).
    let (ongoing, amr, user_agent) = match step {
        Step::Start(proof) => (
            Ongoing {
                id: None,
                created_at: now,
                expires_at: entry.max_age(now),
                authenticated_at: now,
                amr: Vec::new(),
                adopt: None,
                actor: None,
            },
            match second_factor(warden, backend, user, &proof, request).await? {
                Second::Satisfied(amr) => amr,
                Second::Challenge(response) => return Ok(Granted::Challenged(response)),
            },
            user_agent(headers),
        ),
        Step::Continue(ongoing, _) => {
            if ongoing.expires_at.is_some_and(|end| end <= now) {
                return Err(Failure::Refused(Refusal::Denied));
            }
            let amr = ongoing.amr.clone();
            let agent = ongoing.id.is_none().then(|| user_agent(headers)).flatten();
            (ongoing, amr, agent)
        }
        Step::Reauthenticate(ongoing, proof) => (
            Ongoing {
                authenticated_at: now,
                ..ongoing
            },
            proof.amr(),
            None,
        ),
        Step::Impersonate(actor) => {
            let end = now.saturating_add(IMPERSONATION_SECONDS);
            (
                Ongoing {
                    id: None,
                    created_at: now,
                    expires_at: Some(entry.max_age(now).map_or(end, |cap| cap.min(end))),
                    // Never fresh nor `mfa` all the same: the pipeline refuses an
                    // impersonation session wherever a route asks either.
                    authenticated_at: now,
                    amr: Vec::new(),
                    adopt: None,
                    actor: Some(actor),
                },
                Vec::new(),
                user_agent(headers),
            )
        }
    };
    let admitted = warden
        .manager()
        .events()
        .admit(
            user,
            &SignIn {
                backend,
                kind,
                amr: &amr,
            },
        )
        .await;
    if !admitted {
        return Err(Failure::Refused(Refusal::Denied));
    }
    if kind == SignInKind::Reauthenticate
        && let Some(id) = &ongoing.id
        && !sessions.renew(id, &amr).await?
    {
        // Ended between the password check and here (a logout elsewhere).
        return Err(Failure::Refused(Refusal::Denied));
    }
    let subject = user_id.clone();
    let (id, new) = match &ongoing.id {
        Some(id) => (id.clone(), false),
        None => (random_id()?, true),
    };
    let acr = crate::second_factor::has_second_factor(&amr).then(|| warden.acr());
    let grant = Grant::new(&subject, &id, ongoing.authenticated_at, ongoing.expires_at)
        .amr(&amr)
        .acr(acr)
        .actor(ongoing.actor.as_deref());
    let issued = entry.strategy.write_token(&grant).await?;
    if let Some(session) = &issued.session
        && (new || *session != id)
    {
        // A new login, or a session a custom strategy made up for its token (the
        // database and Redis strategies record the grant's own): recorded
        // before the token is handed out, so no instance sees it without one.
        let record = Session::new(
            session.as_str(),
            subject.as_str(),
            backend,
            ongoing.created_at,
            ongoing.expires_at,
        )
        .authenticated(ongoing.authenticated_at, &amr)
        .user_agent(user_agent.as_deref())
        .impersonated_by(ongoing.actor.as_deref());
        sessions.open(record).await?;
        // A ban made between the check above and here ended the user's sessions
        // before this one was recorded: read it again now that it is, so that no
        // session outlives a ban (the ban writes its row before it ends sessions).
        if let Some(ban) = warden.manager().banned_id(&user_id).await? {
            sessions.end(session).await?;
            return Err(Failure::Refused(Refusal::Banned(ban.until)));
        }
    }
    if let (Some(token), Some(session)) = (&ongoing.adopt, &issued.session) {
        entry.strategy.bind_token(token, session).await?;
    }
    let refresh = match (entry.sessions.refresh, &issued.session) {
        (Some(seconds), Some(session)) if chains => {
            let end = now.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX));
            let end = ongoing.expires_at.map_or(end, |cap| end.min(cap));
            Some(sessions.issue_refresh(session, end).await?)
        }
        _ => None,
    };
    // `expires_in` as the token really lives: the session's end may come first.
    let expires_in = match (entry.strategy.lifetime(), ongoing.expires_at) {
        (Some(lifetime), Some(end)) => Some(lifetime.min(u64::try_from(end - now).unwrap_or(0))),
        (Some(lifetime), None) => Some(lifetime),
        (None, end) => end.map(|end| u64::try_from(end - now).unwrap_or(0)),
    };
    // An impersonation is no login of the user's: no `on_after_login`.
    if kind == SignInKind::Start && !impersonation {
        warden.manager().events().on_after_login(user).await;
    }
    let mut response = match refresh {
        // Refresh tokens ride beside the access token in the bearer JSON (RFC 6749
        // §5.1); a client that knows only `access_token` reads it as before.
        Some(refresh) => {
            let mut body = serde_json::json!({
                "access_token": issued.token,
                "token_type": "bearer",
                "refresh_token": refresh,
            });
            if let Some(expires_in) = expires_in {
                body["expires_in"] = expires_in.into();
            }
            axum::Json(body).into_response()
        }
        None => entry.transport.login_response(&issued.token, expires_in)?,
    };
    // RFC 6749 §5.1: responses carrying tokens must not be cached.
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(Granted::Session(response, amr))
}

/// Where a new sign-in stands with the second factor.
enum Second {
    /// No second factor is asked (none configured, the user has none, the proof
    /// had one, or the browser is remembered): the sign-in records this `amr`.
    Satisfied(Vec<String>),
    /// The user has one and it has yet to come: the `mfa_token` answer.
    Challenge(Response),
}

/// Whether a new sign-in proved by `proof` must answer a second factor first; when
/// it must, opens the challenge and words the answer: 403
/// `{"detail": "LOGIN_2FA_REQUIRED", "error": "mfa_required", "mfa_token"}` (the
/// `mfa_required` error OAuth2 clients know from Auth0's password grant), so a
/// FastAPI Users client sees a refused login, never a token it cannot use.
async fn second_factor<U: UserModel>(
    warden: &Warden<U>,
    backend: &str,
    user: &U,
    proof: &Proof,
    request: &Request<'_>,
) -> Result<Second, Failure> {
    let amr = proof.amr();
    let Some(second) = warden.authenticator().second_factor() else {
        return Ok(Second::Satisfied(amr));
    };
    // A provider's own `mfa` counts unless the application said otherwise.
    let proved = crate::second_factor::has_second_factor(&amr)
        && (second.trusts_provider_mfa() || !matches!(proof, Proof::Provider { .. }));
    if proved {
        return Ok(Second::Satisfied(amr));
    }
    let user_id = user.id().to_string();
    if !second.enabled(&user_id).await? {
        return Ok(Second::Satisfied(amr));
    }
    let sessions = warden.manager().sessions();
    if second
        .remembered(request.headers, &user_id, sessions.cutoff(&user_id).await?)
        .await?
    {
        let mut amr = amr;
        amr.extend(
            [
                crate::second_factor::TRUSTED_DEVICE_AMR,
                crate::second_factor::MFA_AMR,
            ]
            .map(str::to_owned),
        );
        return Ok(Second::Satisfied(amr));
    }
    let entry = warden.backend(backend).ok_or_else(ApiError::internal)?;
    let opened = second
        .challenges()
        .open(
            &user_id,
            backend,
            &amr,
            entry.transport.ambient(),
            sessions.clock().now(),
        )
        .await?;
    let mut response = (
        axum::http::StatusCode::FORBIDDEN,
        axum::Json(serde_json::json!({
            "detail": warden.error_text(crate::error::ErrorCode::Login2faRequired),
            "error": "mfa_required",
            "mfa_token": opened.token,
        })),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Some(cookie) = opened.cookie {
        headers.append(header::SET_COOKIE, cookie);
    }
    Ok(Second::Challenge(response))
}

/// The request's `User-Agent`, for the sessions list.
fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}
