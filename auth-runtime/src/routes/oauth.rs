//! FastAPI Users' OAuth login router: `GET /auth/{name}/authorize` and
//! `GET /auth/{name}/callback`. Unlike FastAPI Users', the state and its cookie are
//! checked before the code is redeemed, each state works once, and every failure is
//! a 4xx (503 while the provider is out of reach), never a 500.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{ApiError, ErrorCode};
use crate::manager::{ManagerError, OAuthPolicy};
use crate::model::UserModel;
use crate::oauth::OAuthError;
use crate::oauth::state::STATE_LIFETIME;
use crate::signin::Proof;
use crate::warden::Warden;

/// The CSRF cookie of `oauth`'s router holding `value`: `__Host-`-prefixed when
/// `Secure` (see [`OAuthOptions::csrf_cookie_name`](crate::oauth::OAuthOptions)).
fn csrf_cookie(oauth: &crate::oauth::OAuthRoute, value: &str, max_age: i64) -> HeaderValue {
    let name = oauth.options.csrf_cookie_name();
    let secure = if oauth.options.secure_cookie() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; Max-Age={max_age}; Path=/; SameSite=lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("fastapiusersoauthcsrf=; Max-Age=0; Path=/"))
}

/// `GET /auth/{name}/authorize?scopes=...`: 200 `{"authorization_url"}` and the CSRF
/// cookie. The URL carries the state, the PKCE challenge (S256) and the nonce.
pub(crate) async fn authorize<U: UserModel>(
    warden: Warden<U>,
    route: &str,
    associate: bool,
    query: Vec<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let oauth = warden
        .oauth_route(route, associate)
        .ok_or_else(ApiError::internal)?;
    // The associate router's state names the user it was asked for. Linking adds
    // a way into the account that outlives a password reset and "log out
    // everywhere": where credential changes need the current password, it needs a
    // fresh sign-in (ASVS 6.2.3; RFC 9470's step-up, answered like any refusal of
    // it), so that a briefly stolen token cannot plant one.
    let sub = if associate {
        let fresh = warden
            .requires_current_password()
            .then_some(ASSOCIATE_FRESH_SECONDS);
        Some(
            current(&warden, &axum::http::Method::GET, &headers, fresh)
                .await?
                .id()
                .to_string(),
        )
    } else {
        None
    };
    let scopes: Vec<String> = query
        .into_iter()
        .filter(|(name, _)| name == "scopes")
        .map(|(_, scope)| scope)
        .collect();
    let mut scopes = if scopes.is_empty() {
        oauth.client.scopes.clone()
    } else {
        scopes
    };
    // The identity comes from the ID token: `openid` is never left out.
    if oauth.client.is_oidc() && !scopes.iter().any(|scope| scope == "openid") {
        scopes.insert(0, "openid".into());
    }
    let (state, secret) = oauth.state.issue(sub)?;
    let url = oauth
        .client
        .authorization_url(
            &oauth.callback_url(),
            &state,
            &oauth.state.challenge(&secret),
            &oauth.state.nonce(&secret),
            &scopes,
        )
        .await
        .map_err(|error| provider_error(&oauth.client.name, error))?;
    // The cookie's secret is base64url text (`random::urlsafe`).
    let secret = std::str::from_utf8(secret.expose()).map_err(|_| ApiError::internal())?;
    let mut response = Json(json!({ "authorization_url": url })).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        csrf_cookie(oauth, secret, STATE_LIFETIME),
    );
    Ok(response)
}

/// How recent a sign-in the associate authorize route needs with
/// [`require_current_password`](crate::WardenBuilder::require_current_password):
/// five minutes, as a step-up guard's usual `fresh = 300`.
pub(crate) const ASSOCIATE_FRESH_SECONDS: u32 = 300;

/// The current user of the associate router and of `/users/me/oauth-accounts`:
/// active, verified when the warden requires it (FastAPI Users'
/// `requires_verification`), signed in within `fresh` seconds when given; a cookie
/// transport's request that changes state (`method`) passes the CSRF check.
async fn current<U: UserModel>(
    warden: &Warden<U>,
    method: &axum::http::Method,
    headers: &HeaderMap,
    fresh: Option<u32>,
) -> Result<U, ApiError> {
    // A linked account is a way in: an API key never links or unlinks one.
    let access = crate::authn::Access::ACTIVE.and(crate::authn::Access {
        verified: warden.requires_verification(),
        fresh,
        // Linking and unlinking provider accounts changes the ways in.
        caller: if *method == axum::http::Method::GET && fresh.is_none() {
            crate::authn::Caller::SignedIn
        } else {
            crate::authn::Caller::Owner
        },
        ..crate::authn::Access::ANY
    });
    Ok(warden
        .authenticator()
        .authorize(method, headers, None, access)
        .await?
        .user)
}

/// A provider failure: logged, answered 400 (503 when it is out of reach).
fn provider_error(client: &str, error: OAuthError) -> ApiError {
    tracing::warn!(client, %error, "OAuth provider failure");
    match error {
        OAuthError::Unavailable(_) => ApiError::unavailable(),
        _ => ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            serde_json::Value::from("Bad Request"),
        ),
    }
}

/// The value of the cookie `name`; `Err` when the request carries it more than once:
/// a browser sends two only when someone else (a sibling subdomain, a script, a
/// man in the middle over plain HTTP) planted one beside ours (cookie tossing),
/// and which of the two the browser lists first is up to it (RFC 6265 §5.4).
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, ApiError> {
    let mut found = crate::transport::cookie_values(headers, name);
    let first = found.next();
    if found.next().is_some() {
        tracing::warn!(
            cookie = name,
            "a request carries the OAuth CSRF cookie twice"
        );
        return Err(ApiError::code(ErrorCode::OAuthInvalidState));
    }
    Ok(first)
}

/// The state, the cookie and the provider's answer, checked in that order (the code
/// is redeemed last, and only for a state of this browser used for the first time):
/// who logged in at the provider. `user` is the associate router's user.
async fn identity_of<U: UserModel>(
    oauth: &crate::oauth::OAuthRoute,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    user: Option<&U>,
) -> Result<crate::oauth::Identity, ApiError> {
    let bad_request = || {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            serde_json::Value::from("Bad Request"),
        )
    };
    if let Some(error) = query.get("error") {
        // FastAPI Users echoes the provider's error; only a plain error code is.
        let plain = !error.is_empty()
            && error.len() <= 64
            && error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        tracing::info!(client = %oauth.client.name, error = %error, "the provider refused the authorization");
        return Err(if plain {
            ApiError::new(axum::http::StatusCode::BAD_REQUEST, error.as_str().into())
        } else {
            bad_request()
        });
    }
    let code = query
        .get("code")
        .filter(|code| !code.is_empty())
        .ok_or_else(bad_request)?;
    let state = query
        .get("state")
        .ok_or_else(|| ApiError::code(ErrorCode::AccessTokenDecodeError))?;
    let state = oauth
        .state
        .read(state, cookie(headers, oauth.options.csrf_cookie_name())?)?;
    // A login state at the associate callback, another user's state, or an
    // associate state at the login callback: 400 (FastAPI Users: a 500 or a login).
    let expected = user.map(|user| user.id().to_string());
    if state.sub != expected {
        return Err(bad_request());
    }
    // RFC 9207: the response comes from the provider the request went to.
    oauth
        .client
        .check_issuer(query.get("iss").map(String::as_str))
        .await
        .map_err(|error| provider_error(&oauth.client.name, error))?;
    // Each state works once, on whichever instance it comes back to (keyed by the
    // public hash: the cookie's secret is never stored).
    if oauth
        .spent
        .hit(&format!("oauth-state:{}", state.binding), state.exp)
        .await?
        > 1
    {
        return Err(ApiError::code(ErrorCode::OAuthInvalidState));
    }
    let identity = oauth
        .client
        .identity(
            code,
            &oauth.callback_url(),
            &oauth.state.verifier(&state),
            &oauth.state.nonce_of(&state),
        )
        .await
        .map_err(|error| provider_error(&oauth.client.name, error))?;
    if identity.email.is_none() {
        return Err(ApiError::code(ErrorCode::OAuthNotAvailableEmail));
    }
    Ok(identity)
}

/// The provider's tokens as the row keeps them (sealed, or not at all).
fn sealed(
    oauth: &crate::oauth::OAuthRoute,
    identity: &crate::oauth::Identity,
) -> Result<(String, Option<String>, Option<i64>), ApiError> {
    oauth.stored_tokens(identity).map_err(|error| {
        tracing::error!(%error, "cannot seal the provider's tokens");
        ApiError::internal()
    })
}

/// A manager refusal as the callback answers it: `taken` when the account or its
/// e-mail belongs to someone else, `OAUTH_NOT_AVAILABLE_EMAIL` for an e-mail that
/// is not an address.
fn refused<U: UserModel>(warden: &Warden<U>, error: ManagerError, taken: ErrorCode) -> ApiError {
    match error {
        ManagerError::UserAlreadyExists => warden.error(taken),
        ManagerError::InvalidEmail(_) => warden.error(ErrorCode::OAuthNotAvailableEmail),
        error => super::users::internal(error),
    }
}

/// The store's `oauth_account` table (`build()` checked there is one).
fn oauth_accounts<U: UserModel>(
    warden: &Warden<U>,
) -> Result<std::sync::Arc<dyn crate::store::OAuthAccountStore>, ApiError> {
    warden
        .manager()
        .store()
        .oauth_accounts()
        .ok_or_else(ApiError::internal)
}

/// Appends the header that clears the CSRF cookie: a state works once.
fn clear_cookie(oauth: &crate::oauth::OAuthRoute, response: &mut Response) {
    response
        .headers_mut()
        .append(header::SET_COOKIE, csrf_cookie(oauth, "", 0));
}

/// `GET /auth/{name}/callback?code=...&state=...`: the backend's login response (a
/// bearer token, or 204 and its cookie), the CSRF cookie cleared.
pub(crate) async fn callback<U: UserModel>(
    warden: Warden<U>,
    route: &str,
    query: HashMap<String, String>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let oauth = warden
        .oauth_route(route, false)
        .ok_or_else(ApiError::internal)?;
    let extra = warden.oauth_extra().ok_or_else(ApiError::internal)?;
    let backend = oauth.backend.clone().ok_or_else(ApiError::internal)?;
    let identity = identity_of::<U>(oauth, &query, &headers, None).await?;
    let accounts = oauth_accounts(&warden)?;
    let policy = OAuthPolicy {
        associate_by_email: oauth.options.associate_by_email,
        is_verified_by_default: oauth.options.is_verified_by_default,
    };
    let user = warden
        .manager()
        .oauth_callback(
            accounts.as_ref(),
            &oauth.client.name,
            &identity,
            policy,
            extra(),
            sealed(oauth, &identity)?,
        )
        .await
        .map_err(|error| refused(&warden, error, ErrorCode::OAuthUserAlreadyExists))?;
    // FastAPI Users checks `is_active` after the database writes; the sign-in
    // step does (400 `LOGIN_BAD_CREDENTIALS`), with the rest of the policy.
    let proof = Proof::Provider {
        provider: oauth.client.name.clone(),
        amr: identity.amr.clone(),
    };
    let request = crate::signin::Request::new(&warden, &extensions, &headers);
    let mut response = super::auth::login_as(&warden, &backend, &user, proof, &request).await?;
    clear_cookie(oauth, &mut response);
    Ok(response)
}

/// `GET /auth/associate/{name}/callback?code=...&state=...`: links the provider
/// account to the logged-in user: 200 `UserRead`.
pub(crate) async fn associate_callback<U: UserModel>(
    warden: Warden<U>,
    route: &str,
    query: HashMap<String, String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let oauth = warden
        .oauth_route(route, true)
        .ok_or_else(ApiError::internal)?;
    let user = current(&warden, &axum::http::Method::GET, &headers, None).await?;
    let identity = identity_of(oauth, &query, &headers, Some(&user)).await?;
    let accounts = oauth_accounts(&warden)?;
    warden
        .manager()
        .oauth_associate(
            accounts.as_ref(),
            &oauth.client.name,
            &identity,
            &user,
            sealed(oauth, &identity)?,
        )
        .await
        .map_err(|error| refused(&warden, error, ErrorCode::OAuthAccountAlreadyLinked))?;
    let mut response = Json(user).into_response();
    clear_cookie(oauth, &mut response);
    Ok(response)
}

/// `GET /users/me/oauth-accounts`: the provider accounts linked to the current
/// user, by provider and account id, never with the provider's tokens.
pub(crate) async fn linked_accounts<U: UserModel>(
    State(warden): State<Warden<U>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = current(&warden, &axum::http::Method::GET, &headers, None).await?;
    let accounts = oauth_accounts(&warden)?
        .all_of_user(&user.id().to_string())
        .await?;
    let listed: Vec<serde_json::Value> = accounts
        .iter()
        .map(|account| {
            json!({
                "oauth_name": account.oauth_name,
                "account_id": account.account_id,
                "account_email": account.account_email,
            })
        })
        .collect();
    Ok(Json(listed).into_response())
}

/// `DELETE /users/me/oauth-accounts/{oauth_name}/{account_id}`: 204; 404 for an
/// account not linked to the current user (another user's included: whose it is
/// is not told); 400 `OAUTH_ACCOUNT_LAST_SIGN_IN` for the user's last way in.
pub(crate) async fn unlink_account<U: UserModel>(
    State(warden): State<Warden<U>>,
    axum::extract::Path((oauth_name, account_id)): axum::extract::Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = current(&warden, &axum::http::Method::DELETE, &headers, None).await?;
    let accounts = oauth_accounts(&warden)?;
    match warden
        .manager()
        .oauth_unlink(accounts.as_ref(), &user, &oauth_name, &account_id)
        .await
        .map_err(super::users::internal)?
    {
        crate::manager::Unlinked::Done => Ok(axum::http::StatusCode::NO_CONTENT.into_response()),
        crate::manager::Unlinked::LastSignIn => {
            Err(warden.error(ErrorCode::OAuthAccountLastSignIn))
        }
        _ => Err(ApiError::not_found()),
    }
}

/// A query string's pairs; an unreadable one reads as empty (the route then answers
/// its own 400).
fn pairs(query: Option<String>) -> Vec<(String, String)> {
    query
        .and_then(|query| serde_urlencoded::from_str(&query).ok())
        .unwrap_or_default()
}

/// The authorize route's handler (of a login router, or with `associate` of an
/// associate router), for the route list.
pub(crate) fn authorize_handler<U: UserModel>(
    route: std::sync::Arc<str>,
    associate: bool,
) -> axum::routing::MethodRouter<Warden<U>> {
    axum::routing::get(
        move |State(warden): State<Warden<U>>, RawQuery(query): RawQuery, headers: HeaderMap| {
            let route = std::sync::Arc::clone(&route);
            async move { authorize(warden, &route, associate, pairs(query), headers).await }
        },
    )
}

/// The callback route's handler, for the route list.
pub(crate) fn callback_handler<U: UserModel>(
    route: std::sync::Arc<str>,
    associate: bool,
) -> axum::routing::MethodRouter<Warden<U>> {
    axum::routing::get(
        move |State(warden): State<Warden<U>>,
              RawQuery(query): RawQuery,
              extensions: axum::http::Extensions,
              headers: HeaderMap| {
            let route = std::sync::Arc::clone(&route);
            let query: HashMap<String, String> = pairs(query).into_iter().collect();
            async move {
                if associate {
                    associate_callback(warden, &route, query, headers).await
                } else {
                    callback(warden, &route, query, extensions, headers).await
                }
            }
        },
    )
}
