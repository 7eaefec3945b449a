//! warden's passkey routes (FastAPI Users has none): a signed-in user manages
//! their passkeys under `/users/me/passkeys`; a sign-in with one runs at
//! `/auth/{name}/passkey` and ends in the one sign-in step; with
//! `Passkeys::signup`, `/auth/register/passkey` creates accounts from a passkey.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use webauthn_rs::prelude::{CredentialID, Passkey, Uuid};

use super::body::{Fields, Reader};
use crate::audit::SecurityEvent;
use crate::authn::{Access, Authenticated};
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::manager::ManagerError;
use crate::model::{UserId as _, UserModel};
use crate::passkeys::{
    Begun, CEREMONY_SECONDS, CeremonyError, Kind, LoginStart, MAX_NAME_CHARS, challenge_key,
    passkey_json,
};
use crate::signin::{Proof, Request, Step, sign_in};
use crate::store::{Ceremony, StoredPasskey};
use crate::throttle::{Account, Attempt};
use crate::user::{MAX_EMAIL_LEN, UserCreate, normalize_email};
use crate::warden::Warden;

/// Adding and deleting a passkey need a sign-in of the last five minutes (ASVS
/// 6.2.3's re-authentication before changing a credential), as linking a provider
/// account does.
const FRESH_SECONDS: u32 = 300;

/// The largest credential JSON read (a `toJSON()` output is a few kilobytes).
const MAX_CREDENTIAL_BYTES: usize = 64 * 1024;

/// The current active user (verified too when the warden requires it), signed in
/// within the last five minutes when `fresh`.
async fn current<'a, U: UserModel>(
    warden: &'a Warden<U>,
    method: &Method,
    headers: &'a HeaderMap,
    fresh: bool,
) -> Result<Authenticated<'a, U>, ApiError> {
    // A passkey is a credential: an API key never changes one.
    let access = Access::ACTIVE.and(Access {
        verified: warden.requires_verification(),
        fresh: fresh.then_some(FRESH_SECONDS),
        // Listing passkeys is no change of them.
        caller: if *method == Method::GET {
            crate::authn::Caller::SignedIn
        } else {
            crate::authn::Caller::Owner
        },
        ..Access::ANY
    });
    warden
        .authenticator()
        .authorize(method, headers, None, access)
        .await
}

/// Options answered: never cached (they carry a one-time challenge).
fn options(begun: &Begun) -> Response {
    let mut response = Json(begun.options.clone()).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A ceremony's refusal, in its own code.
fn refused<U: UserModel>(warden: &Warden<U>, error: CeremonyError) -> ApiError {
    warden.error(match error {
        CeremonyError::Challenge => ErrorCode::PasskeyChallengeInvalid,
        CeremonyError::Origin => ErrorCode::PasskeyOriginMismatch,
        CeremonyError::RpId => ErrorCode::PasskeyRpIdMismatch,
        CeremonyError::UserVerification => ErrorCode::PasskeyUserVerificationRequired,
        CeremonyError::Counter | CeremonyError::Invalid => ErrorCode::PasskeyInvalid,
    })
}

/// The `credential` field: the `toJSON()` output of a `PublicKeyCredential`.
fn credential_of(fields: &Fields) -> Result<Value, ApiError> {
    fields.require_json()?;
    match fields.map().get("credential") {
        Some(credential @ Value::Object(_))
            if credential.to_string().len() <= MAX_CREDENTIAL_BYTES =>
        {
            Ok(credential.clone())
        }
        Some(_) => Err(ApiError::validation(vec![FieldError::body(
            "credential",
            "dict_type",
            "Input should be the credential's toJSON() object",
        )])),
        None => Err(ApiError::validation(vec![FieldError::body(
            "credential",
            "missing",
            "Field required",
        )])),
    }
}

/// A passkey's name: 1 to 64 characters.
fn name_of(reader: &mut Reader<'_>) -> Option<String> {
    let name = reader.string("name", MAX_NAME_CHARS * 4)?.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        reader.push(FieldError::body(
            "name",
            "string_too_long",
            "The name has 1 to 64 characters",
        ));
        return None;
    }
    Some(name)
}

/// A Unix time as RFC 3339 (UTC), as FastAPI renders datetimes.
fn datetime(seconds: i64) -> Value {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .map_or(Value::Null, Value::from)
}

/// `PasskeyRead`.
fn read(passkey: &StoredPasskey) -> Value {
    json!({
        "id": passkey.id,
        "name": passkey.name,
        "created_at": datetime(passkey.created_at),
        "last_used_at": passkey.last_used_at.map_or(Value::Null, datetime),
        "backed_up": passkey.backed_up,
    })
}

/// A stored passkey as webauthn-rs reads it; a row it cannot read is corrupt.
fn parsed(stored: &StoredPasskey) -> Result<Passkey, ApiError> {
    serde_json::from_str(&stored.credential).map_err(|error| {
        tracing::error!(%error, passkey = %stored.id, "a stored passkey cannot be read");
        ApiError::internal()
    })
}

/// The ceremony a credential answers, taken (it works once), if it is live and
/// of `kind`.
async fn take<U: UserModel>(
    warden: &Warden<U>,
    credential: &Value,
    kind: Kind,
) -> Result<Option<Ceremony>, ApiError> {
    let enabled = warden.passkeys()?;
    let Some(key) = challenge_key(credential) else {
        return Ok(None);
    };
    let now = warden.manager().sessions().clock().now();
    Ok(enabled
        .store
        .take(&key)
        .await?
        .filter(|ceremony| ceremony.expires_at >= now && ceremony.kind == kind.as_str()))
}

/// Stores a begun ceremony for five minutes.
async fn begin<U: UserModel>(
    warden: &Warden<U>,
    begun: &Begun,
    kind: Kind,
    user_id: Option<String>,
) -> Result<(), ApiError> {
    let now = warden.manager().sessions().clock().now();
    let ceremony = Ceremony::new(
        kind.as_str(),
        user_id,
        begun.state.as_str(),
        now + CEREMONY_SECONDS,
    );
    warden
        .passkeys()?
        .store
        .begin(&begun.key, &ceremony, now)
        .await?;
    Ok(())
}

/// The user's WebAuthn user handle, made on first use.
async fn handle_of<U: UserModel>(warden: &Warden<U>, user_id: &str) -> Result<Uuid, ApiError> {
    let store = &warden.passkeys()?.store;
    let handle = match store.handle(user_id).await? {
        Some(handle) => handle,
        None => {
            store
                .claim_handle(user_id, &Uuid::new_v4().to_string())
                .await?
        }
    };
    Uuid::parse_str(&handle).map_err(|_| ApiError::internal())
}

/// `POST /users/me/passkeys/options`: creation options for a new passkey of the
/// signed-in user, excluding the authenticators that hold one of theirs already.
pub(crate) async fn register_options<U: UserModel>(
    State(warden): State<Warden<U>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let found = current(&warden, &Method::POST, &headers, true).await?;
    let user_id = found.user.id().to_string();
    let enabled = warden.passkeys()?;
    let mut exclude: Vec<CredentialID> = Vec::new();
    for stored in enabled.store.all_of_user(&user_id).await? {
        exclude.push(parsed(&stored)?.cred_id().clone());
    }
    let handle = handle_of(&warden, &user_id).await?;
    let begun = enabled
        .service
        .begin_register(handle, found.user.login(), exclude, None)
        .map_err(|error| refused(&warden, error))?;
    begin(&warden, &begun, Kind::Register, Some(user_id)).await?;
    Ok(options(&begun))
}

/// `POST /users/me/passkeys` `{"name", "credential"}`: 201 `PasskeyRead`.
pub(crate) async fn add<U: UserModel>(
    State(warden): State<Warden<U>>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, ApiError> {
    let found = current(&warden, &Method::POST, &headers, true).await?;
    let credential = credential_of(&fields)?;
    let mut reader = Reader::new(&fields);
    let name = name_of(&mut reader);
    let name = reader.finish_with(name)?;
    let user_id = found.user.id().to_string();
    let ceremony = take(&warden, &credential, Kind::Register)
        .await?
        .filter(|ceremony| ceremony.user_id.as_deref() == Some(user_id.as_str()))
        .ok_or_else(|| warden.error(ErrorCode::PasskeyChallengeInvalid))?;
    let enabled = warden.passkeys()?;
    let (passkey, _) = enabled
        .service
        .finish_register(&ceremony.state, &credential)
        .map_err(|error| refused(&warden, error))?;
    let stored = store_passkey(&warden, &user_id, &name, &passkey).await?;
    warden
        .manager()
        .audit()
        .emit(|| SecurityEvent::PasskeyAdded {
            user_id,
            email: found.user.email().map(str::to_owned),
            name,
        });
    Ok((StatusCode::CREATED, Json(read(&stored))).into_response())
}

/// Stores a proved passkey: 400 `PASSKEY_ALREADY_REGISTERED` for a credential id
/// registered before (to anyone: one credential, one account).
async fn store_passkey<U: UserModel>(
    warden: &Warden<U>,
    user_id: &str,
    name: &str,
    passkey: &Passkey,
) -> Result<StoredPasskey, ApiError> {
    let (id, credential, backed_up) = passkey_json(passkey).ok_or_else(ApiError::internal)?;
    let now = warden.manager().sessions().clock().now();
    let mut stored = StoredPasskey::new(id, user_id, name, credential, now);
    stored.backed_up = backed_up;
    match warden.passkeys()?.store.add(&stored).await {
        Ok(()) => Ok(stored),
        Err(crate::store::StoreError::Duplicate) => {
            Err(warden.error(ErrorCode::PasskeyAlreadyRegistered))
        }
        Err(error) => Err(error.into()),
    }
}

/// `GET /users/me/passkeys`: the user's passkeys, oldest first.
pub(crate) async fn list<U: UserModel>(
    State(warden): State<Warden<U>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let found = current(&warden, &Method::GET, &headers, false).await?;
    let passkeys = warden
        .passkeys()?
        .store
        .all_of_user(&found.user.id().to_string())
        .await?;
    Ok(Json(Value::Array(passkeys.iter().map(read).collect())))
}

/// `PATCH /users/me/passkeys/{passkey_id}` `{"name"}`: 200 `PasskeyRead`; 404 for
/// anyone else's or an unknown one.
pub(crate) async fn rename<U: UserModel>(
    State(warden): State<Warden<U>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Json<Value>, ApiError> {
    let found = current(&warden, &Method::PATCH, &headers, false).await?;
    fields.require_json()?;
    let mut reader = Reader::new(&fields);
    let name = name_of(&mut reader);
    let name = reader.finish_with(name)?;
    let user_id = found.user.id().to_string();
    let store = &warden.passkeys()?.store;
    if !store.rename(&id, &user_id, &name).await? {
        return Err(ApiError::not_found());
    }
    let stored = store.get(&id).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(read(&stored)))
}

/// `DELETE /users/me/passkeys/{passkey_id}`: 204; 404 for anyone else's or an
/// unknown one; 400 `PASSKEY_LAST_SIGN_IN` when it is the user's last way in (no
/// usable password, no linked provider account, no other passkey).
pub(crate) async fn delete<U: UserModel>(
    State(warden): State<Warden<U>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let found = current(&warden, &Method::DELETE, &headers, true).await?;
    let user_id = found.user.id().to_string();
    let store = &warden.passkeys()?.store;
    let passkeys = store.all_of_user(&user_id).await?;
    let Some(target) = passkeys.iter().find(|passkey| passkey.id == id).cloned() else {
        return Err(ApiError::not_found());
    };
    let password = !found
        .user
        .hashed_password()
        .starts_with(crate::password::LOCKED_PREFIX);
    let providers = match warden.manager().store().oauth_accounts() {
        Some(accounts) => !accounts.all_of_user(&user_id).await?.is_empty(),
        None => false,
    };
    let other_way = password || providers;
    if !other_way && passkeys.len() < 2 {
        return Err(warden.error(ErrorCode::PasskeyLastSignIn));
    }
    if !store.remove(&id, &user_id).await? {
        return Err(ApiError::not_found());
    }
    if !other_way && store.all_of_user(&user_id).await?.is_empty() {
        // Another request deleted the other passkey meanwhile: this one stays.
        match store.add(&target).await {
            Ok(()) | Err(crate::store::StoreError::Duplicate) => {
                return Err(warden.error(ErrorCode::PasskeyLastSignIn));
            }
            Err(error) => return Err(error.into()),
        }
    }
    warden
        .manager()
        .audit()
        .emit(|| SecurityEvent::PasskeyRemoved {
            user_id,
            email: found.user.email().map(str::to_owned),
            name: target.name,
        });
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /auth/{name}/passkey/options` `{"username"}` (the model's login), or `{}`
/// with discoverable credentials on: request options. A login without passkeys
/// (unknown, or a user who has none) gets options of the same shape with decoy
/// credential ids derived from the login: the answer tells no one whether the
/// account exists.
pub(crate) async fn login_options<U: UserModel>(
    warden: Warden<U>,
    _backend: Arc<str>,
    fields: Fields,
) -> Result<Response, ApiError> {
    let enabled = warden.passkeys()?;
    let mut reader = Reader::new(&fields);
    let username = reader.optional_string("username", MAX_EMAIL_LEN);
    reader.finish()?;
    let (begun, user_id) = match username {
        None if enabled.service.discoverable => {
            (enabled.service.begin_login(LoginStart::Discoverable), None)
        }
        None => {
            return Err(ApiError::validation(vec![FieldError::body(
                "username",
                "missing",
                "Field required",
            )]));
        }
        Some(login) => {
            let user = warden.manager().find_login(login).await?;
            let mut passkeys = Vec::new();
            if let Some(user) = &user {
                for stored in enabled.store.all_of_user(&user.id().to_string()).await? {
                    passkeys.push(parsed(&stored)?);
                }
            }
            match user {
                Some(user) if !passkeys.is_empty() => (
                    enabled.service.begin_login(LoginStart::Passkeys(&passkeys)),
                    Some(user.id().to_string()),
                ),
                _ => (
                    enabled.service.begin_login(LoginStart::Decoy(
                        &normalize_email(login).unwrap_or_else(|_| login.to_owned()),
                    )),
                    None,
                ),
            }
        }
    };
    let begun = begun.map_err(|error| refused(&warden, error))?;
    begin(&warden, &begun, Kind::Login, user_id).await?;
    Ok(options(&begun))
}

/// `POST /auth/{name}/passkey` `{"credential"}`: the backend's login response,
/// through the one sign-in step (`amr` `hwk` or `swk`, and `mfa`). Refusals: 400
/// `PASSKEY_CHALLENGE_INVALID` (unknown, used or stale challenge),
/// `PASSKEY_ORIGIN_MISMATCH`, `PASSKEY_RP_ID_MISMATCH`,
/// `PASSKEY_USER_VERIFICATION_REQUIRED`, `PASSKEY_INVALID` (a counter that went
/// backwards), `LOGIN_BAD_CREDENTIALS` (an unknown credential, another user's, a
/// bad signature, an inactive user), each counted by the login throttle.
pub(crate) async fn login<U: UserModel>(
    warden: Warden<U>,
    backend: Arc<str>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, ApiError> {
    super::auth::sign_in_route(&warden, &backend, &headers)?;
    let credential = credential_of(&fields)?;
    let request = Request::new(&warden, &extensions, &headers);
    let enabled = warden.passkeys()?;
    let id = credential
        .get("rawId")
        .or_else(|| credential.get("id"))
        .and_then(Value::as_str)
        .and_then(crate::passkeys::decode)
        .map(|raw| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, raw))
        .unwrap_or_default();
    let stored = if id.is_empty() {
        None
    } else {
        enabled.store.get(&id).await?
    };
    let attempt = match warden.throttle() {
        Some(throttle) => {
            let account = match &stored {
                Some(stored) => Account::User(&stored.user_id),
                None => Account::Unknown(&id),
            };
            match throttle.check_login(account, None, request.address).await {
                Ok(attempt) => Some(attempt),
                Err(refused) => {
                    if refused.status() == StatusCode::TOO_MANY_REQUESTS {
                        warden.manager().audit().emit(|| SecurityEvent::Throttled {
                            login: stored
                                .as_ref()
                                .map_or_else(|| id.clone(), |stored| stored.user_id.clone()),
                            client: request.client(),
                        });
                    }
                    return Err(refused);
                }
            }
        }
        None => None,
    };
    let proved = prove(&warden, &credential, stored).await;
    let (user, proof) = match proved {
        Ok(proved) => proved,
        Err((code, reason)) => {
            warden
                .manager()
                .audit()
                .emit(|| SecurityEvent::SignInRefused {
                    user_id: None,
                    backend: backend.to_string(),
                    reason,
                    client: request.client(),
                });
            if let (Some(throttle), Some(attempt)) = (warden.throttle(), &attempt) {
                throttle.failed_login(attempt).await?;
            }
            return Err(code.map_or_else(|error| error, |code| warden.error(code)));
        }
    };
    succeeded(&warden, attempt.as_ref()).await?;
    // A passkey may answer the `mfa_token` a password got: the session then
    // records both (`pwd` and `hwk`/`swk`).
    let proof = match fields.text("mfa_token") {
        Some(token) => {
            super::two_factor::answered_by_passkey(&warden, &backend, &headers, token, &user, proof)
                .await?
        }
        None => proof,
    };
    sign_in(&warden, &backend, &user, Step::Start(proof), &request)
        .await
        .map_err(|failure| failure.answer(|why| super::auth::login_refused(&warden, why, false)))
}

async fn succeeded<U: UserModel>(
    warden: &Warden<U>,
    attempt: Option<&Attempt>,
) -> Result<(), ApiError> {
    if let (Some(throttle), Some(attempt)) = (warden.throttle(), attempt) {
        throttle.succeeded(attempt).await?;
    }
    Ok(())
}

/// A refusal: its code (or an error to pass on) and the security event's reason.
type Refused = (Result<ErrorCode, ApiError>, &'static str);

/// Proves a sign-in's credential: its user and the proof, or the refusal.
async fn prove<U: UserModel>(
    warden: &Warden<U>,
    credential: &Value,
    stored: Option<StoredPasskey>,
) -> Result<(U, Proof), Refused> {
    let bad = || (Ok(ErrorCode::LoginBadCredentials), "bad_credentials");
    let passed = |error: ApiError| (Err(error), "error");
    let enabled = warden.passkeys().map_err(passed)?;
    // Taken first: whatever follows, this challenge is spent.
    let ceremony = take(warden, credential, Kind::Login)
        .await
        .map_err(passed)?
        .ok_or((Ok(ErrorCode::PasskeyChallengeInvalid), "passkey_challenge"))?;
    let stored = stored.ok_or_else(bad)?;
    if ceremony
        .user_id
        .as_deref()
        .is_some_and(|user| user != stored.user_id)
    {
        // The options offered another user's passkeys.
        return Err(bad());
    }
    let mut passkey = parsed(&stored).map_err(passed)?;
    let handle = enabled
        .store
        .handle(&stored.user_id)
        .await
        .map_err(|error| passed(error.into()))?;
    let finished = enabled
        .service
        .finish_login(&ceremony.state, credential, &passkey, handle.as_deref())
        .map_err(|error| match error {
            CeremonyError::Invalid => bad(),
            CeremonyError::Counter => {
                tracing::warn!(passkey = %stored.id, user_id = %stored.user_id, "a passkey's signature counter went backwards: a cloned authenticator?");
                (Ok(ErrorCode::PasskeyInvalid), "passkey_counter")
            }
            CeremonyError::Challenge => (Ok(ErrorCode::PasskeyChallengeInvalid), "passkey_challenge"),
            CeremonyError::Origin => (Ok(ErrorCode::PasskeyOriginMismatch), "passkey_origin"),
            CeremonyError::RpId => (Ok(ErrorCode::PasskeyRpIdMismatch), "passkey_rp_id"),
            CeremonyError::UserVerification => (
                Ok(ErrorCode::PasskeyUserVerificationRequired),
                "passkey_user_verification",
            ),
        })?;
    let user = match U::Id::parse(&stored.user_id) {
        Some(id) => warden
            .manager()
            .get(&id)
            .await
            .map_err(|error| passed(error.into()))?,
        None => None,
    };
    let user = user.ok_or_else(bad)?;
    // The counter and backup state as this use shows them (webauthn-rs: update
    // after every use), unless a concurrent use changed the stored passkey first.
    passkey.update_credential(&finished.result);
    let (_, updated, _) = passkey_json(&passkey).ok_or_else(|| passed(ApiError::internal()))?;
    let now = warden.manager().sessions().clock().now();
    let written = enabled
        .store
        .used(
            &stored.id,
            &stored.credential,
            &updated,
            finished.result.backup_state(),
            now,
        )
        .await
        .map_err(|error| passed(error.into()))?;
    if !written {
        return Err((Ok(ErrorCode::PasskeyInvalid), "passkey_counter"));
    }
    Ok((
        user,
        Proof::Passkey {
            backup_eligible: finished.result.backup_eligible(),
        },
    ))
}

/// The fields of a passkey sign-up: `UserCreate` without the password.
fn signup_create<U: UserModel>(fields: &Fields) -> Result<UserCreate<U::Create>, ApiError> {
    fields.require_json()?;
    let mut reader = Reader::new(fields);
    let email = if U::HAS_EMAIL {
        reader.string("email", MAX_EMAIL_LEN)
    } else {
        Some("")
    };
    if let Some(Err(msg)) = email.filter(|_| U::HAS_EMAIL).map(normalize_email) {
        reader.push(FieldError::body("email", "value_error", msg));
    }
    let extra = reader.extra(U::read_create);
    let (email, extra) = reader.finish_with((email, extra))?;
    Ok(UserCreate {
        email: U::HAS_EMAIL.then(|| email.to_owned()),
        password: String::new(),
        is_active: None,
        is_superuser: None,
        is_verified: None,
        extra,
    })
}

/// A registration's refusal, as `POST /auth/register` words it.
fn signup_error<U: UserModel>(warden: &Warden<U>, error: ManagerError) -> ApiError {
    match error {
        ManagerError::UserAlreadyExists => warden.error(ErrorCode::RegisterUserAlreadyExists),
        ManagerError::InvalidEmail(msg) => {
            ApiError::validation(vec![FieldError::body("email", "value_error", msg)])
        }
        ManagerError::InvalidLogin(msg) => {
            ApiError::validation(vec![FieldError::body(U::LOGIN, "value_error", msg)])
        }
        error => super::users::internal(error),
    }
}

/// `POST /auth/register/passkey/options`: `UserCreate` without a password; the
/// account's fields are checked (400 `REGISTER_USER_ALREADY_EXISTS` as for
/// `POST /auth/register`) and creation options answered.
pub(crate) async fn signup_options<U: UserModel>(
    State(warden): State<Warden<U>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, ApiError> {
    let create = signup_create::<U>(&fields)?;
    if let Some(throttle) = warden.throttle() {
        throttle
            .register(warden.client_address(&extensions, &headers))
            .await?;
    }
    let user = warden
        .manager()
        .check_signup(create)
        .await
        .map_err(|error| signup_error(&warden, error))?;
    let begun = warden
        .passkeys()?
        .service
        .begin_register(
            Uuid::new_v4(),
            user.login(),
            Vec::new(),
            Some(fields.map().clone()),
        )
        .map_err(|error| refused(&warden, error))?;
    begin(&warden, &begun, Kind::Signup, None).await?;
    Ok(options(&begun))
}

/// `POST /auth/register/passkey` `{"credential", "name"?}`: the account and its
/// passkey: 201 `UserRead`, then the user signs in with the passkey.
pub(crate) async fn signup<U: UserModel>(
    State(warden): State<Warden<U>>,
    fields: Fields,
) -> Result<Response, ApiError> {
    let credential = credential_of(&fields)?;
    let mut reader = Reader::new(&fields);
    let name = reader
        .optional_string("name", MAX_NAME_CHARS * 4)
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| name.chars().take(MAX_NAME_CHARS).collect::<String>())
        .unwrap_or_else(|| "Passkey".to_owned());
    reader.finish()?;
    let ceremony = take(&warden, &credential, Kind::Signup)
        .await?
        .ok_or_else(|| warden.error(ErrorCode::PasskeyChallengeInvalid))?;
    let enabled = warden.passkeys()?;
    let (passkey, signup) = enabled
        .service
        .finish_register(&ceremony.state, &credential)
        .map_err(|error| refused(&warden, error))?;
    let (kept, handle) = signup.ok_or_else(|| warden.error(ErrorCode::PasskeyChallengeInvalid))?;
    let create = signup_create::<U>(&Fields::from_map(kept))?;
    let user = warden
        .manager()
        .create_passwordless(create)
        .await
        .map_err(|error| signup_error(&warden, error))?;
    let user_id = user.id().to_string();
    let stored = async {
        enabled.store.claim_handle(&user_id, &handle).await?;
        store_passkey(&warden, &user_id, &name, &passkey).await
    }
    .await;
    if let Err(error) = stored {
        // No account without its way in.
        warden.manager().store().delete(user.id()).await?;
        return Err(error);
    }
    warden.manager().events().on_after_register(&user).await;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

/// `GET /auth/passkeys/client.js`: the browser module.
pub(crate) async fn client_js() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        crate::passkeys::CLIENT_JS,
    )
        .into_response()
}
