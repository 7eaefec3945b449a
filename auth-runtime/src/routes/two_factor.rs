//! warden's two-factor routes (FastAPI Users has none): managing one's own second
//! factor under `/users/me/2fa/...`, the second step of a sign-in at
//! `POST /auth/{name}/login/2fa` (and Auth0's MFA grant types at the login route),
//! and a superuser's `DELETE /users/{id}/2fa`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::RouteUser;
use super::body::{Fields, Reader};
use crate::audit::SecurityEvent;
use crate::authn::{Access, Authenticated, Enrolling};
use crate::error::{ApiError, ErrorCode};
use crate::guard::{Active, Superuser};
use crate::model::{UserId, UserModel};
use crate::password::MAX_PASSWORD_BYTES;
use crate::second_factor::{Answer, Factor, SecondFactor};
use crate::session::Admission;
use crate::signin::{Proof, Request, Step, sign_in};
use crate::throttle::{Account, Attempt};
use crate::warden::Warden;

/// How recent a sign-in turning the second factor on or off needs: five minutes,
/// as a step-up guard's usual `fresh = 300` (ASVS 6.2.3: a stolen session alone
/// must not change an authentication factor).
pub(crate) const TWO_FACTOR_FRESH_SECONDS: u32 = 300;

/// Longest code, recovery code or `mfa_token` read (they are far shorter).
const MAX_CODE_BYTES: usize = 64;
const MAX_MFA_TOKEN_BYTES: usize = 128;

/// Auth0's MFA grant types (its password grant's second step), accepted at the
/// login route beside FastAPI Users' password form.
pub(crate) const GRANT_MFA_OTP: &str = "http://auth0.com/oauth/grant-type/mfa-otp";
pub(crate) const GRANT_MFA_RECOVERY_CODE: &str =
    "http://auth0.com/oauth/grant-type/mfa-recovery-code";

/// The configured second factor; the routes exist only with one.
fn factor<U: UserModel>(warden: &Warden<U>) -> Result<&SecondFactor, ApiError> {
    warden
        .authenticator()
        .second_factor()
        .ok_or_else(ApiError::internal)
}

/// The current active user (verified when the warden requires it), signed in
/// within `fresh` seconds when given; a session the policy limits is served or not
/// as `enrolling` says.
async fn current<'a, U: UserModel>(
    warden: &'a Warden<U>,
    method: &Method,
    headers: &'a HeaderMap,
    fresh: Option<u32>,
    enrolling: Enrolling,
) -> Result<Authenticated<'a, U>, ApiError> {
    // A second factor is a credential: an API key never changes one.
    let access = Access::ACTIVE.and(Access {
        verified: warden.requires_verification(),
        fresh,
        // Reading where the factor stands is no change of it.
        caller: if *method == Method::GET {
            crate::authn::Caller::SignedIn
        } else {
            crate::authn::Caller::Owner
        },
        ..Access::ANY
    });
    warden
        .authenticator()
        .authorize_in(method, headers, None, access, enrolling)
        .await
}

/// 400 with `code`'s text.
fn refusal<U: UserModel>(warden: &Warden<U>, code: ErrorCode) -> ApiError {
    warden.error(code)
}

/// A JSON answer that must not be cached (it holds secrets shown once).
fn secret_json(status: StatusCode, body: Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The code the body names: `code`, or `otp` (Auth0's name), or `recovery_code`;
/// exactly one.
fn answer<'a>(reader: &mut Reader<'a>) -> Option<Answer<'a>> {
    let code = reader.optional_string("code", MAX_CODE_BYTES);
    let otp = reader.optional_string("otp", MAX_CODE_BYTES);
    let recovery = reader.optional_string("recovery_code", MAX_CODE_BYTES);
    match (code.or(otp), recovery) {
        (Some(code), None) => Some(Answer::Code(code)),
        (None, Some(recovery)) => Some(Answer::RecoveryCode(recovery)),
        (None, None) => {
            reader.push(crate::error::FieldError::body(
                "code",
                "missing",
                "Field required: `code` (or `otp`), or `recovery_code`",
            ));
            None
        }
        (Some(_), Some(_)) => {
            reader.push(crate::error::FieldError::whole_body(
                "value_error",
                "Give `code` or `recovery_code`, not both",
            ));
            None
        }
    }
}

/// Counts a second-factor attempt of `user_id` before it is checked (so concurrent
/// guesses meet the limit exactly), as a login of the account counts.
async fn throttled<U: UserModel>(
    warden: &Warden<U>,
    user_id: &str,
    request: &Request<'_>,
) -> Result<Option<Attempt>, ApiError> {
    match warden.throttle() {
        Some(throttle) => Ok(Some(
            throttle
                .check_login(Account::User(user_id), None, request.address)
                .await?,
        )),
        None => Ok(None),
    }
}

/// Checks `answer` for `user`, counting the attempt in the throttle; the factor, or
/// `None` (counted as a failure, and told to the security events).
pub(crate) async fn check_answer<U: UserModel>(
    warden: &Warden<U>,
    user: &U,
    answer: Answer<'_>,
    request: &Request<'_>,
) -> Result<Option<Factor>, ApiError> {
    let second = factor(warden)?;
    let user_id = user.id().to_string();
    let attempt = throttled(warden, &user_id, request).await?;
    let checked = second.check(&user_id, answer).await?;
    let audit = warden.manager().audit();
    match checked {
        Some(found) => {
            if let (Some(throttle), Some(attempt)) = (warden.throttle(), &attempt) {
                throttle.succeeded(attempt).await?;
            }
            if found == Factor::RecoveryCode {
                let left = second.store().recovery_codes_left(&user_id).await?;
                audit.emit(|| SecurityEvent::RecoveryCodeUsed {
                    user_id: user_id.clone(),
                    email: user.email().map(str::to_owned),
                    left,
                });
            }
        }
        None => {
            if let (Some(throttle), Some(attempt)) = (warden.throttle(), &attempt) {
                throttle.failed_login(attempt).await?;
            }
            audit.emit(|| SecurityEvent::SecondFactorFailed {
                user_id: user_id.clone(),
                client: request.client(),
            });
        }
    }
    Ok(checked)
}

/// `GET /users/me/2fa`: whether it is on, whether a new secret awaits
/// confirmation, how many recovery codes are left, and whether the policy requires
/// it of this user. Served to a session the policy limits.
pub(crate) async fn status<U: UserModel>(
    State(warden): State<Warden<U>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let found = current(&warden, &Method::GET, &headers, None, Enrolling::Served).await?;
    let second = factor(&warden)?;
    let status = second.status(&found.user.id().to_string()).await?;
    Ok(Json(json!({
        "enabled": status.enabled,
        "methods": if status.enabled { vec!["totp"] } else { Vec::new() },
        "pending": status.pending,
        "recovery_codes_left": status.recovery_codes_left,
        "required": second.required_for(&found.user),
    })))
}

/// `POST /users/me/2fa/totp`: a new TOTP secret, shown once: `secret` (base32, to
/// type in), `otpauth_uri` (what a QR code carries) and `qr_svg` (the `qr`
/// feature). It turns nothing on until `POST /users/me/2fa/totp/confirm` proves a
/// code from it; while 2FA is on, the old secret keeps working until then. Needs a
/// fresh sign-in.
pub(crate) async fn enrol<U: UserModel>(
    State(warden): State<Warden<U>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let found = current(
        &warden,
        &Method::POST,
        &headers,
        Some(TWO_FACTOR_FRESH_SECONDS),
        Enrolling::Served,
    )
    .await?;
    let second = factor(&warden)?;
    let user_id = found.user.id().to_string();
    // Replacing a secret that is on changes the factor: a session that never
    // passed it (a password sign-in from before it was turned on, fresh as it may
    // be) must not (ASVS 6.2.3), as its re-authentication would need a code.
    if !crate::second_factor::has_second_factor(&found.amr) && second.enabled(&user_id).await? {
        return Err(ApiError::second_factor_required(
            second.acr(),
            Some(TWO_FACTOR_FRESH_SECONDS),
        ));
    }
    let enrolment = second.enrol(&user_id, found.user.login()).await?;
    Ok(secret_json(
        StatusCode::OK,
        json!({
            "secret": enrolment.secret,
            "otpauth_uri": enrolment.uri,
            "qr_svg": enrolment.qr_svg,
        }),
    ))
}

/// `POST /users/me/2fa/totp/confirm` `{"code"}`: a code from the new secret turns
/// 2FA on and answers ten recovery codes, shown this once. The session that
/// confirmed has proved the second factor: it counts as one that passed it (a
/// session the policy limited is limited no more).
pub(crate) async fn confirm<U: UserModel>(
    State(warden): State<Warden<U>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, ApiError> {
    let found = current(&warden, &Method::POST, &headers, None, Enrolling::Served).await?;
    let mut reader = Reader::new(&fields);
    let code = reader.string("code", MAX_CODE_BYTES);
    let code = reader.finish_with(code)?;
    let second = factor(&warden)?;
    let user_id = found.user.id().to_string();
    let request = Request::new(&warden, &extensions, &headers);
    if !second.status(&user_id).await?.pending {
        return Err(refusal(&warden, ErrorCode::TwoFactorNotEnabled));
    }
    let attempt = throttled(&warden, &user_id, &request).await?;
    let Some(codes) = second.confirm(&user_id, code).await? else {
        if let (Some(throttle), Some(attempt)) = (warden.throttle(), &attempt) {
            throttle.failed_login(attempt).await?;
        }
        return Err(refusal(&warden, ErrorCode::TwoFactorBadCode));
    };
    if let (Some(throttle), Some(attempt)) = (warden.throttle(), &attempt) {
        throttle.succeeded(attempt).await?;
    }
    if let Admission::Session { id, .. } = &found.session {
        let mut amr = found.amr.to_vec();
        for value in Factor::Otp.amr() {
            if !amr.iter().any(|known| known == value) {
                amr.push(value.to_owned());
            }
        }
        warden.manager().sessions().renew(id, &amr).await?;
    }
    warden
        .manager()
        .audit()
        .emit(|| SecurityEvent::TwoFactorEnabled {
            user_id: user_id.clone(),
            email: found.user.email().map(str::to_owned),
        });
    Ok(secret_json(
        StatusCode::OK,
        json!({ "recovery_codes": codes }),
    ))
}

/// `POST /users/me/2fa/recovery-codes` `{"code"}`: new recovery codes replace the
/// old ones (shown this once); a code from the app is required.
pub(crate) async fn regenerate<U: UserModel>(
    State(warden): State<Warden<U>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, ApiError> {
    let found = current(&warden, &Method::POST, &headers, None, Enrolling::Refused).await?;
    let mut reader = Reader::new(&fields);
    let code = reader.string("code", MAX_CODE_BYTES);
    let code = reader.finish_with(code)?;
    let second = factor(&warden)?;
    let user_id = found.user.id().to_string();
    if !second.enabled(&user_id).await? {
        return Err(refusal(&warden, ErrorCode::TwoFactorNotEnabled));
    }
    let request = Request::new(&warden, &extensions, &headers);
    if check_answer(&warden, &found.user, Answer::Code(code), &request)
        .await?
        .is_none()
    {
        return Err(refusal(&warden, ErrorCode::TwoFactorBadCode));
    }
    let codes = second.regenerate(&user_id).await?;
    warden
        .manager()
        .audit()
        .emit(|| SecurityEvent::RecoveryCodesRegenerated {
            user_id: user_id.clone(),
            email: found.user.email().map(str::to_owned),
        });
    Ok(secret_json(
        StatusCode::OK,
        json!({ "recovery_codes": codes }),
    ))
}

/// `POST /users/me/2fa/disable` `{"code" | "recovery_code", "password"?}`: turns
/// 2FA off, with its recovery codes and remembered devices. Needs a code (or a
/// recovery code), and the password or, for a user without one (provider or
/// passkey accounts) or who gives none, a fresh sign-in.
pub(crate) async fn disable<U: UserModel>(
    State(warden): State<Warden<U>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    fields: Fields,
) -> Result<StatusCode, ApiError> {
    let mut reader = Reader::new(&fields);
    let password = reader.optional_string("password", MAX_PASSWORD_BYTES);
    let given = answer(&mut reader);
    let fresh = password.is_none().then_some(TWO_FACTOR_FRESH_SECONDS);
    let found = current(&warden, &Method::POST, &headers, fresh, Enrolling::Refused).await?;
    let given = reader.finish_with(given)?;
    let second = factor(&warden)?;
    let user_id = found.user.id().to_string();
    let request = Request::new(&warden, &extensions, &headers);
    if let Some(password) = password {
        super::users::check_current_password(&warden, &found.user, password, request.address)
            .await?;
    }
    if !second.enabled(&user_id).await? {
        return Err(refusal(&warden, ErrorCode::TwoFactorNotEnabled));
    }
    if check_answer(&warden, &found.user, given, &request)
        .await?
        .is_none()
    {
        return Err(refusal(&warden, ErrorCode::TwoFactorBadCode));
    }
    second.disable(&user_id).await?;
    warden
        .manager()
        .audit()
        .emit(|| SecurityEvent::TwoFactorDisabled {
            user_id: user_id.clone(),
            email: found.user.email().map(str::to_owned),
            by: "user",
        });
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /users/me/2fa/forget-devices`: every browser remembered after a second
/// factor asks for a code again.
pub(crate) async fn forget_devices<U: UserModel>(
    State(warden): State<Warden<U>>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let found = current(&warden, &Method::POST, &headers, None, Enrolling::Refused).await?;
    let user_id = found.user.id().to_string();
    factor(&warden)?.forget_devices(&user_id).await?;
    warden
        .manager()
        .audit()
        .emit(|| SecurityEvent::TrustedDevicesForgotten { user_id });
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /users/{id}/2fa` (active superusers): turns the user's second factor off
/// and ends their sessions on every instance, for a user who lost both the app and
/// the recovery codes. 404 for an unknown user; 204 whether or not it was on.
pub(crate) async fn reset_user<U: UserModel>(
    State(warden): State<Warden<U>>,
    RouteUser(_, _): RouteUser<U, (Active, Superuser, crate::scope::Interactive)>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = match U::Id::parse(&id) {
        Some(id) => warden.manager().get(&id).await?,
        None => None,
    };
    let user = user.ok_or_else(ApiError::not_found)?;
    reset(&warden, &user, "superuser").await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Turns `user`'s second factor off and ends every session of theirs; `by` says who
/// asked, for the security events.
pub(crate) async fn reset<U: UserModel>(
    warden: &Warden<U>,
    user: &U,
    by: &'static str,
) -> Result<(), ApiError> {
    let user_id = user.id().to_string();
    factor(warden)?.disable(&user_id).await?;
    warden.manager().sessions().end_user(&user_id).await?;
    let audit = warden.manager().audit();
    audit.emit(|| SecurityEvent::TwoFactorDisabled {
        user_id: user_id.clone(),
        email: user.email().map(str::to_owned),
        by,
    });
    audit.emit(|| SecurityEvent::SessionsEnded {
        user_id: user_id.clone(),
        reason: "two_factor_reset",
    });
    Ok(())
}

/// How the second step words a refusal: 400 `{"detail": code}`, with RFC 6749
/// §5.2's `"error": "invalid_grant"` beside it when an Auth0 grant type asked.
fn step_refusal<U: UserModel>(warden: &Warden<U>, code: ErrorCode, grant: bool) -> ApiError {
    let error = warden.error(code);
    if grant {
        error.with_grant_error("invalid_grant")
    } else {
        error
    }
}

/// `POST /auth/{name}/login/2fa` `{"mfa_token", "code" | "otp" | "recovery_code",
/// "remember_device"?}` (form or JSON): the second step. The backend's login
/// response when the code checks; 400 `LOGIN_2FA_BAD_TOKEN` for an unknown, used,
/// expired, exhausted, another backend's or another browser's `mfa_token`, 400
/// `LOGIN_2FA_BAD_CODE` for a wrong code (each counted against the account).
pub(crate) async fn second_step<U: UserModel>(
    warden: Warden<U>,
    backend: Arc<str>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, ApiError> {
    let mut reader = Reader::new(&fields);
    let token = reader.string("mfa_token", MAX_MFA_TOKEN_BYTES);
    let given = answer(&mut reader);
    let remember = reader.optional_bool("remember_device").unwrap_or(false);
    let (token, given) = reader.finish_with((token, given))?;
    finish(
        &warden,
        &backend,
        &extensions,
        &headers,
        token,
        given,
        remember,
        false,
    )
    .await
}

/// The login route's Auth0 grant types: `grant_type=…/mfa-otp` with `mfa_token`
/// and `otp`, or `…/mfa-recovery-code` with `mfa_token` and `recovery_code`. `None`
/// when the body names neither (a password login).
pub(crate) async fn grant<U: UserModel>(
    warden: &Warden<U>,
    backend: &str,
    extensions: &axum::http::Extensions,
    headers: &HeaderMap,
    fields: &Fields,
) -> Option<Result<Response, ApiError>> {
    let grant_type = fields.text("grant_type")?;
    let field = match grant_type {
        GRANT_MFA_OTP => "otp",
        GRANT_MFA_RECOVERY_CODE => "recovery_code",
        _ => return None,
    };
    let mut reader = Reader::new(fields);
    let token = reader.string("mfa_token", MAX_MFA_TOKEN_BYTES);
    let code = reader.string(field, MAX_CODE_BYTES);
    let remember = reader.optional_bool("remember_device").unwrap_or(false);
    let (token, code) = match reader.finish_with((token, code)) {
        Ok(read) => read,
        Err(error) => return Some(Err(error)),
    };
    let given = if field == "otp" {
        Answer::Code(code)
    } else {
        Answer::RecoveryCode(code)
    };
    Some(
        finish(
            warden, backend, extensions, headers, token, given, remember, true,
        )
        .await,
    )
}

/// The second step proper, for both spellings.
#[allow(clippy::too_many_arguments)]
async fn finish<U: UserModel>(
    warden: &Warden<U>,
    backend: &str,
    extensions: &axum::http::Extensions,
    headers: &HeaderMap,
    token: &str,
    given: Answer<'_>,
    remember: bool,
    grant: bool,
) -> Result<Response, ApiError> {
    let entry = super::auth::sign_in_route(warden, backend, headers)?;
    let second = factor(warden)?;
    let request = Request::new(warden, extensions, headers);
    let now = warden.manager().sessions().clock().now();
    let Some(challenge) = second
        .challenges()
        .attempt(token, backend, headers, now)
        .await?
    else {
        return Err(step_refusal(warden, ErrorCode::Login2faBadToken, grant));
    };
    let user = match U::Id::parse(&challenge.user_id) {
        Some(id) => warden.manager().get(&id).await?,
        None => None,
    };
    let Some(user) = user else {
        return Err(step_refusal(warden, ErrorCode::Login2faBadToken, grant));
    };
    let Some(found) = check_answer(warden, &user, given, &request).await? else {
        return Err(step_refusal(warden, ErrorCode::Login2faBadCode, grant));
    };
    // Single use: of two second steps with one token, one signs in.
    if !second.challenges().take(token).await? {
        return Err(step_refusal(warden, ErrorCode::Login2faBadToken, grant));
    }
    let proof = Proof::SecondFactor {
        first: challenge.amr.clone(),
        factor: found,
    };
    let mut response = sign_in(warden, backend, &user, Step::Start(proof), &request)
        .await
        .map_err(|failure| failure.answer(|why| super::auth::login_refused(warden, why, grant)))?;
    let set = response.headers_mut();
    if challenge.binding.is_some()
        && let Some(clear) = second.challenges().clear_cookie()
    {
        set.append(header::SET_COOKIE, clear);
    }
    // The throttle's device cookie, as a password login that needed no second
    // factor would have set it (OWASP's device cookies).
    if response.status().is_success()
        && let Some(throttle) = warden.throttle()
    {
        let user_id = user.id().to_string();
        let sessions = warden.manager().sessions();
        let cutoff = sessions.cutoff(&user_id).await?;
        if let Some(cookie) = throttle.device_cookie_after(headers, &user_id, cutoff, now) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
    }
    // Remembered on cookie backends only: a bearer client has no cookie jar to
    // keep it in, and must not get a credential it cannot protect.
    if remember
        && response.status().is_success()
        && entry.transport.ambient()
        && let Some(cookie) = second.remember_cookie(&user.id().to_string())
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Whether a re-authentication of `user` must carry a second factor: they have one
/// on. The route then needs a code beside the password.
pub(crate) async fn reauthentication_needs_code<U: UserModel>(
    warden: &Warden<U>,
    user: &U,
) -> Result<bool, ApiError> {
    Ok(match warden.authenticator().second_factor() {
        Some(second) => second.enabled(&user.id().to_string()).await?,
        None => false,
    })
}

/// 403 `{"detail": "LOGIN_2FA_REQUIRED", "error": "mfa_required"}`: a
/// re-authentication of a user with a second factor came without a code.
pub(crate) fn code_required<U: UserModel>(warden: &Warden<U>) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        Value::from(warden.error_text(ErrorCode::Login2faRequired)),
    )
    .with_grant_error("mfa_required")
}

/// The proof of a passkey sign-in that answers `token`, an `mfa_token` of the same
/// user and backend (and browser): the first factor's `amr` with the passkey's; the
/// token is used up. 400 `LOGIN_2FA_BAD_TOKEN` otherwise.
#[cfg(feature = "passkeys")]
pub(crate) async fn answered_by_passkey<U: UserModel>(
    warden: &Warden<U>,
    backend: &str,
    headers: &HeaderMap,
    token: &str,
    user: &U,
    proof: Proof,
) -> Result<Proof, ApiError> {
    let bad = || warden.error(ErrorCode::Login2faBadToken);
    let Proof::Passkey { backup_eligible } = proof else {
        return Err(ApiError::internal());
    };
    let second = warden.authenticator().second_factor().ok_or_else(bad)?;
    let now = warden.manager().sessions().clock().now();
    let challenge = second
        .challenges()
        .attempt(token, backend, headers, now)
        .await?
        .filter(|challenge| challenge.user_id == user.id().to_string())
        .ok_or_else(bad)?;
    if !second.challenges().take(token).await? {
        return Err(bad());
    }
    Ok(Proof::SecondFactor {
        first: challenge.amr,
        factor: Factor::Passkey { backup_eligible },
    })
}
