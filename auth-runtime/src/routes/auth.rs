//! FastAPI Users' auth router for one backend: login, logout, and warden's refresh
//! and re-authentication. Each route proves a credential; the sign-in step
//! ([`crate::signin`]) grants the session.

use std::sync::Arc;

use axum::http::{HeaderMap, Method};
use axum::response::Response;

use super::body::{Fields, Reader};
use crate::audit::SecurityEvent;
use crate::authn::{Access, Authenticated, Enrolling};
use crate::error::{ApiError, ErrorCode};
use crate::model::UserId;
use crate::model::UserModel;
use crate::password::MAX_PASSWORD_BYTES;
use crate::second_factor::Answer;
use crate::session::Admission;
use crate::signin::{Ongoing, Proof, Refusal, Request, Step, Via, sign_in};
use crate::throttle::{Account, Attempt};
use crate::user::{MAX_EMAIL_LEN, normalize_email};
use crate::warden::Warden;

/// A login refusal as FastAPI Users words it; with RFC 6749 §5.2's
/// `"error": "invalid_grant"` beside `detail` when the form named
/// `grant_type=password`, so that an OAuth2 client library reads it too.
fn login_refusal<U: UserModel>(
    warden: &Warden<U>,
    code: ErrorCode,
    password_grant: bool,
) -> ApiError {
    let error = warden.error(code);
    if password_grant {
        error.with_grant_error("invalid_grant")
    } else {
        error
    }
}

/// How the login routes word the sign-in step's refusals (FastAPI Users: an
/// inactive user is indistinguishable from a wrong password).
pub(crate) fn login_refused<U: UserModel>(
    warden: &Warden<U>,
    why: Refusal,
    password_grant: bool,
) -> ApiError {
    let code = match why {
        Refusal::Unverified => ErrorCode::LoginUserNotVerified,
        Refusal::Inactive | Refusal::Denied => ErrorCode::LoginBadCredentials,
        Refusal::Banned(until) => {
            // Told only to a client that proved the credential (the step runs after
            // it), so a ban reveals nothing to whoever merely knows the login.
            let error = warden.error_with_detail(
                ErrorCode::LoginUserBanned,
                serde_json::json!({ "until": until.and_then(crate::clock::rfc3339) }),
            );
            return if password_grant {
                error.with_grant_error("invalid_grant")
            } else {
                error
            };
        }
    };
    login_refusal(warden, code, password_grant)
}

/// The username and password of a login form (or JSON), the account as
/// throttling counts it, and whether the form named `grant_type=password`.
struct Credentials<'a> {
    username: &'a str,
    password: &'a str,
    account: String,
    password_grant: bool,
}

fn credentials<U: UserModel>(fields: &Fields) -> Result<Credentials<'_>, ApiError> {
    let mut reader = Reader::new(fields);
    let username = reader.string("username", MAX_EMAIL_LEN);
    let password = reader.string("password", MAX_PASSWORD_BYTES);
    let password_grant = reader.optional_literal("grant_type", "password");
    let (username, password) = reader.finish_with((username, password))?;
    Ok(Credentials {
        username,
        password,
        account: account_of::<U>(username),
        password_grant,
    })
}

/// The account as throttling counts it: an e-mail in its normalised form, so its
/// spellings share one count.
fn account_of<U: UserModel>(login: &str) -> String {
    match U::LOGIN {
        "email" => normalize_email(login).unwrap_or_else(|_| login.to_owned()),
        _ => login.to_owned(),
    }
}

/// Proves a password: the user it belongs to and the throttle's record of the
/// attempt, or the route's refusal. The login is looked up first, so that the
/// attempt counts against the user it finds (every spelling of one account shares
/// one count) or, for no user, against the login as typed; each attempt counts
/// before the password is checked, so that concurrent guesses meet the limit
/// exactly. A client holding a device cookie of that user is judged by its own
/// failures only (OWASP's device cookies).
async fn prove_password<U: UserModel>(
    warden: &Warden<U>,
    backend: &str,
    request: &Request<'_>,
    credentials: &Credentials<'_>,
) -> Result<(U, Option<Attempt>), ApiError> {
    let address = request.address;
    let audit = warden.manager().audit();
    let found = warden.manager().find_login(credentials.username).await?;
    let attempt = match warden.throttle() {
        Some(throttle) => {
            let id = found.as_ref().map(|user| user.id().to_string());
            let (account, device) = match &id {
                Some(id) => {
                    // The cut-off is read only for a request with a device cookie:
                    // most logins carry none, and pay no extra query.
                    let device = if throttle.presents_device(request.headers) {
                        let sessions = warden.manager().sessions();
                        let cutoff = sessions.cutoff(id).await?;
                        throttle.device(request.headers, id, cutoff, sessions.clock().now())
                    } else {
                        None
                    };
                    (Account::User(id), device)
                }
                None => (Account::Unknown(&credentials.account), None),
            };
            match throttle.check_login(account, device, address).await {
                Ok(attempt) => Some(attempt),
                Err(refused) => {
                    if refused.status() == axum::http::StatusCode::TOO_MANY_REQUESTS {
                        audit.emit(|| SecurityEvent::Throttled {
                            login: credentials.account.clone(),
                            client: request.client(),
                        });
                    }
                    return Err(refused);
                }
            }
        }
        None => None,
    };
    let started = std::time::Instant::now();
    let user = warden
        .manager()
        .check_password(found, credentials.password.to_owned())
        .await
        .map_err(super::users::internal)?;
    match user {
        Some(user) if user.is_active() => {
            if let (Some(throttle), Some(attempt)) = (warden.throttle(), &attempt) {
                throttle.succeeded(attempt).await?;
            }
            Ok((user, attempt))
        }
        refused => {
            // The right password of an inactive account was not padded as a wrong
            // one is: without this its quicker 400 says the password was right
            // (ASVS 6.3.8). A wrong password's wait has passed already: no-op.
            if refused.is_some() {
                warden.manager().hasher().pad_refusal(started).await;
            }
            audit.emit(|| SecurityEvent::SignInRefused {
                user_id: None,
                backend: backend.to_owned(),
                reason: "bad_credentials",
                client: request.client(),
            });
            if let (Some(throttle), Some(attempt)) = (warden.throttle(), &attempt) {
                throttle.failed_login(attempt).await?;
            }
            Err(login_refusal(
                warden,
                ErrorCode::LoginBadCredentials,
                credentials.password_grant,
            ))
        }
    }
}

/// The signed-in response with a device cookie for `user` (OWASP's device cookies;
/// on every backend, bearer ones too: a browser keeps it whatever carries the
/// token, and a client without a cookie jar ignores it).
async fn with_device_cookie<U: UserModel>(
    warden: &Warden<U>,
    user: &U,
    attempt: Option<&Attempt>,
    mut response: Response,
) -> Response {
    if let (Some(throttle), Some(attempt)) = (warden.throttle(), attempt) {
        let now = warden.manager().sessions().clock().now();
        if let Some(cookie) = throttle.device_cookie(&user.id().to_string(), attempt, now) {
            response
                .headers_mut()
                .append(axum::http::header::SET_COOKIE, cookie);
        }
    }
    response
}

/// The backend of a route that signs in (a login, a second step, a passkey), once
/// the request passed the login-CSRF check: a cross-site form must not sign a
/// victim in to the attacker's account, so a cookie backend's sign-in comes from
/// the application's origin or an allowed one.
pub(crate) fn sign_in_route<'a, U: UserModel>(
    warden: &'a Warden<U>,
    backend: &str,
    headers: &HeaderMap,
) -> Result<&'a crate::authn::BackendEntry, ApiError> {
    let entry = warden.backend(backend).ok_or_else(ApiError::internal)?;
    crate::csrf::check(
        &Method::POST,
        headers,
        entry.transport.ambient(),
        warden.allowed_origins(),
    )?;
    Ok(entry)
}

/// `POST /auth/{name}/login`: OAuth2 password form fields `username` and `password`
/// (or the same as JSON). 200 `{"access_token", "token_type": "bearer"}`; 400
/// `LOGIN_BAD_CREDENTIALS` for an unknown user, a wrong password or an inactive
/// user alike; 422 for a malformed body.
pub(crate) async fn login<U: UserModel>(
    warden: Warden<U>,
    backend: Arc<str>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, ApiError> {
    sign_in_route(&warden, &backend, &headers)?;
    // Auth0's MFA grant types finish a sign-in the password began (the second
    // step's other spelling).
    if warden.authenticator().second_factor().is_some()
        && let Some(answered) =
            super::two_factor::grant(&warden, &backend, &extensions, &headers, &fields).await
    {
        return answered;
    }
    let credentials = credentials::<U>(&fields)?;
    let request = Request::new(&warden, &extensions, &headers);
    let (user, attempt) = prove_password(&warden, &backend, &request, &credentials).await?;
    let response = sign_in(
        &warden,
        &backend,
        &user,
        Step::Start(Proof::Password),
        &request,
    )
    .await
    .map_err(|failure| {
        failure.answer(|why| login_refused(&warden, why, credentials.password_grant))
    })?;
    // A device becomes known once the whole sign-in succeeded: a password that only
    // bought an `mfa_token` proves too little to exempt a browser from lockouts.
    if !response.status().is_success() {
        return Ok(response);
    }
    Ok(with_device_cookie(&warden, &user, attempt.as_ref(), response).await)
}

/// `POST /auth/{name}/reauthenticate`: the signed-in user proves the password again
/// (form or JSON `password`; `username` may be given and must then be theirs) and
/// the same session is signed anew: 200 with the backend's login response, whose
/// tokens carry the new sign-in time that `fresh = N` guards measure (RFC 9470).
/// 401 without a valid token of this backend, 400 `LOGIN_BAD_CREDENTIALS` for a
/// wrong password (counted by the throttle like a login).
pub(crate) async fn reauthenticate<U: UserModel>(
    warden: Warden<U>,
    backend: Arc<str>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, ApiError> {
    let found = backend_user(&warden, &backend, &headers, Enrolling::Served).await?;
    if found.actor.is_some() {
        // The superuser acting as the user has no factor of theirs to renew.
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            ErrorCode::ImpersonationForbidden.as_str().into(),
        ));
    }
    let mut reader = Reader::new(&fields);
    let username = reader.optional_string("username", MAX_EMAIL_LEN);
    let password = reader.string("password", MAX_PASSWORD_BYTES);
    let password_grant = reader.optional_literal("grant_type", "password");
    let code = reader
        .optional_string("code", 64)
        .or(reader.optional_string("otp", 64));
    let recovery_code = reader.optional_string("recovery_code", 64);
    let password = reader.finish_with(password)?;
    // The login named, or the signed-in user's own; whichever it is must prove to
    // be the session's user: a re-authentication can never switch accounts.
    let login = username.unwrap_or(found.user.login()).to_owned();
    let credentials = Credentials {
        username: &login,
        password,
        account: account_of::<U>(&login),
        password_grant,
    };
    let request = Request::new(&warden, &extensions, &headers);
    let (proved, _) = prove_password(&warden, &backend, &request, &credentials).await?;
    if proved.id() != found.user.id() {
        return Err(login_refusal(
            &warden,
            ErrorCode::LoginBadCredentials,
            password_grant,
        ));
    }
    // A user with a second factor re-authenticates with a code too: a password
    // alone must not make a session fresh for the routes that change factors.
    let proof = if super::two_factor::reauthentication_needs_code(&warden, &proved).await? {
        let answer = match (code, recovery_code) {
            (Some(code), _) => Answer::Code(code),
            (None, Some(recovery)) => Answer::RecoveryCode(recovery),
            (None, None) => return Err(super::two_factor::code_required(&warden)),
        };
        let Some(factor) =
            super::two_factor::check_answer(&warden, &proved, answer, &request).await?
        else {
            return Err(login_refusal(
                &warden,
                ErrorCode::Login2faBadCode,
                password_grant,
            ));
        };
        Proof::SecondFactor {
            first: Proof::Password.amr(),
            factor,
        }
    } else {
        Proof::Password
    };
    let ongoing = ongoing_of(&warden, &backend, &found)?;
    sign_in(
        &warden,
        &backend,
        &proved,
        Step::Reauthenticate(ongoing, proof),
        &request,
    )
    .await
    .map_err(|failure| failure.answer(|why| login_refused(&warden, why, password_grant)))
}

/// The guard of logout, refresh and re-authentication: an active user of this
/// backend (verified too when the warden requires it), from an allowed origin if
/// the token is a cookie (all are `POST`s).
async fn backend_user<'a, U: UserModel>(
    warden: &'a Warden<U>,
    backend: &str,
    headers: &'a HeaderMap,
    enrolling: Enrolling,
) -> Result<Authenticated<'a, U>, ApiError> {
    warden
        .authenticator()
        .authorize_in(
            &Method::POST,
            headers,
            Some(backend),
            route_access(warden),
            enrolling,
        )
        .await
}

/// What logout and refresh demand of their user.
fn route_access<U: UserModel>(warden: &Warden<U>) -> Access {
    Access::ACTIVE.and(Access {
        verified: warden.requires_verification(),
        ..Access::ANY
    })
}

/// The session an authenticated request's token belongs to, to go on with; a
/// token without one (FastAPI Users') opens one from its own issue time, and is
/// refused (401) once that is past the backend's maximum session age.
fn ongoing_of<U: UserModel>(
    warden: &Warden<U>,
    backend: &str,
    found: &Authenticated<'_, U>,
) -> Result<Ongoing, ApiError> {
    let entry = warden.backend(backend).ok_or_else(ApiError::internal)?;
    Ok(match &found.session {
        // `found` already holds the token's own sign-in time and `amr`, falling back
        // to the session's (`authn::authenticate`): an older token of a session that
        // was re-authenticated since does not become fresh by refreshing.
        Admission::Session {
            id,
            created_at,
            authenticated_at,
            expires_at,
            actor,
            ..
        } => Ongoing {
            id: Some(id.clone()),
            created_at: *created_at,
            expires_at: *expires_at,
            authenticated_at: found.auth_time.unwrap_or(*authenticated_at),
            amr: found.amr.to_vec(),
            adopt: None,
            actor: actor.as_deref().map(str::to_owned),
        },
        _ => {
            let now = warden.manager().sessions().clock().now();
            let created_at = found.issued_at.unwrap_or(now);
            Ongoing {
                id: None,
                created_at,
                expires_at: entry.max_age(created_at),
                authenticated_at: created_at,
                amr: found.amr.to_vec(),
                adopt: Some(found.token.to_owned()),
                actor: None,
            }
        }
    })
}

/// A login of `user` through `backend`, from elsewhere than its password route (an
/// OAuth callback): the sign-in step with the provider's proof; its refusals as
/// the callback words them (FastAPI Users: 400 `LOGIN_BAD_CREDENTIALS` for an
/// inactive user).
#[cfg(feature = "oauth")]
pub(crate) async fn login_as<U: UserModel>(
    warden: &Warden<U>,
    backend: &str,
    user: &U,
    proof: Proof,
    request: &Request<'_>,
) -> Result<Response, ApiError> {
    sign_in(warden, backend, user, Step::Start(proof), request)
        .await
        .map_err(|failure| failure.answer(|why| login_refused(warden, why, false)))
}

/// `POST /auth/{name}/logout`: the strategy destroys the token and its session
/// ends, on every instance (with it every token of that login, refresh tokens
/// included); the transport answers (204; a cookie transport also clears its
/// cookie). 401 without a valid token of an active user of this backend.
pub(crate) async fn logout<U: UserModel>(
    warden: Warden<U>,
    backend: Arc<str>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let found = backend_user(&warden, &backend, &headers, Enrolling::Served).await?;
    let entry = warden.backend(&backend).ok_or_else(ApiError::internal)?;
    entry
        .strategy
        .destroy_token(found.token, &found.user.id().to_string())
        .await?;
    let sessions = warden.manager().sessions();
    match &found.session {
        Admission::Session { id, .. } => {
            sessions.end(id).await?;
        }
        // A JWT without a session (FastAPI Users' own) cannot be told apart from its
        // siblings: all of the user's tokens end.
        _ if found.issued_at.is_some() => {
            sessions.end_user(&found.user.id().to_string()).await?;
        }
        // Neither session nor issue time: the strategy's destroy_token ended it.
        _ => {}
    }
    warden.manager().audit().emit(|| SecurityEvent::Logout {
        user_id: found.user.id().to_string(),
        backend: backend.to_string(),
    });
    Ok(entry.transport.logout_response())
}

/// `POST /auth/{name}/stop-impersonating`: ends the impersonation session the
/// request's token belongs to, on every instance (as a logout does). On a cookie
/// transport the operator's own token, kept aside at the impersonation, is put
/// back (204 with both cookies set); otherwise the transport's logout answer.
/// 400 `NOT_IMPERSONATING` for a session of the user's own, 401 without one.
pub(crate) async fn stop_impersonating<U: UserModel>(
    warden: Warden<U>,
    backend: Arc<str>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let found = backend_user(&warden, &backend, &headers, Enrolling::Served).await?;
    let Some(actor) = found.actor.clone() else {
        return Err(warden.error(ErrorCode::NotImpersonating));
    };
    let entry = warden.backend(&backend).ok_or_else(ApiError::internal)?;
    let user_id = found.user.id().to_string();
    entry.strategy.destroy_token(found.token, &user_id).await?;
    if let Admission::Session { id, .. } = &found.session {
        warden.manager().sessions().end(id).await?;
    }
    warden
        .manager()
        .audit()
        .emit(|| SecurityEvent::ImpersonationEnded {
            user_id,
            actor: actor.to_string(),
        });
    Ok(match entry.transport.aside(&headers) {
        Some(own) => {
            let mut response = entry.transport.login_response(own, None)?;
            if let Some(clear) = entry.transport.set_aside(None) {
                response
                    .headers_mut()
                    .append(axum::http::header::SET_COOKIE, clear);
            }
            response
        }
        None => entry.transport.logout_response(),
    })
}

/// `POST /auth/{name}/refresh`. With a refresh token in the body (RFC 6749 §6:
/// form `grant_type=refresh_token&refresh_token=...`, or JSON
/// `{"refresh_token": ...}`) on a backend that issues them: the token is used up
/// and a new pair answered; a token used before ends its whole session. Without
/// one: FastAPI Users' recipe, a valid access token buys a fresh one of the same
/// login (on every strategy, opaque ones included: logging out either ends both),
/// which keeps its sign-in time and never outlives the maximum session age, and
/// never a refresh token (a parallel chain).
pub(crate) async fn refresh<U: UserModel>(
    warden: Warden<U>,
    backend: Arc<str>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, ApiError> {
    let request = Request::new(&warden, &extensions, &headers);
    let mut reader = Reader::new(&fields);
    let grant_type = reader.optional_string("grant_type", 64);
    let refresh_token = reader.optional_string("refresh_token", 256);
    reader.finish()?;
    if let Some(refresh_token) = refresh_token {
        if grant_type.is_some_and(|grant| grant != "refresh_token") {
            return Err(oauth_error("unsupported_grant_type"));
        }
        return refresh_grant(&warden, &backend, refresh_token, &request).await;
    }
    if grant_type.is_some_and(|grant| grant == "refresh_token") {
        return Err(oauth_error("invalid_request"));
    }
    let found = backend_user(&warden, &backend, &headers, Enrolling::Refused).await?;
    let ongoing = ongoing_of(&warden, &backend, &found)?;
    sign_in(
        &warden,
        &backend,
        &found.user,
        Step::Continue(ongoing, Via::AccessToken),
        &request,
    )
    .await
    .map_err(|failure| failure.answer(|_| ApiError::invalid_token()))
}

/// The refresh-token grant. Its errors are RFC 6749 §5.2's: 400 `invalid_grant`.
async fn refresh_grant<U: UserModel>(
    warden: &Warden<U>,
    backend: &str,
    refresh_token: &str,
    request: &Request<'_>,
) -> Result<Response, ApiError> {
    let entry = warden.backend(backend).ok_or_else(ApiError::internal)?;
    if entry.sessions.refresh.is_none() {
        return Err(oauth_error("unsupported_grant_type"));
    }
    let Some(session) = warden
        .manager()
        .sessions()
        .redeem_refresh(refresh_token)
        .await?
        .filter(|session| session.backend == backend)
    else {
        return Err(oauth_error("invalid_grant"));
    };
    let user = match U::Id::parse(&session.user_id) {
        Some(id) => warden.manager().get(&id).await?,
        None => None,
    };
    let Some(user) = user else {
        return Err(oauth_error("invalid_grant"));
    };
    sign_in(
        warden,
        backend,
        &user,
        Step::Continue(Ongoing::of(&session), Via::RefreshToken),
        request,
    )
    .await
    .map_err(|failure| failure.answer(|_| oauth_error("invalid_grant")))
}

/// RFC 6749 §5.2's error response: 400 `{"error": code}`.
fn oauth_error(code: &'static str) -> ApiError {
    ApiError::oauth(code)
}
