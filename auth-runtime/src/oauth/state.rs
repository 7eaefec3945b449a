//! The state of an authorization request: FastAPI Users' state JWT (`csrftoken`,
//! audience `fastapi-users:oauth-state`, HS256; the associate router's carries `sub`)
//! and its CSRF cookie, plus what FastAPI Users lacks: the PKCE verifier and the
//! nonce, derived from the cookie's secret value with the state secret so that they
//! never travel in a URL and need no storage, and a single use enforced across
//! instances by the store's counters.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ErrorCode};
use crate::token::Secret;

/// FastAPI Users' state audience.
pub const STATE_AUDIENCE: &str = "fastapi-users:oauth-state";
/// FastAPI Users' CSRF cookie.
pub const CSRF_COOKIE: &str = "fastapiusersoauthcsrf";
/// How long an authorization request may take, in seconds (FastAPI Users: an hour;
/// a login at a provider takes minutes).
pub const STATE_LIFETIME: i64 = 600;

#[derive(Serialize, Deserialize)]
struct StateClaims {
    csrftoken: String,
    aud: String,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
}

/// A verified state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct State {
    pub(crate) csrf: String,
    pub(crate) sub: Option<String>,
    pub(crate) exp: i64,
}

/// Signs and reads states, and derives their PKCE verifier and nonce.
pub(crate) struct StateCodec {
    secret: Secret,
    /// HMAC-SHA256 keyed by the state secret, cloned for each derivation.
    mac: Hmac<Sha256>,
}

impl StateCodec {
    /// A codec of `secret`; `None` only if HMAC refused the key (it takes keys of
    /// any length).
    pub(crate) fn new(secret: Secret) -> Option<Self> {
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose()).ok()?;
        Some(Self { secret, mac })
    }

    fn mac(&self, purpose: &str, csrf: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(purpose.as_bytes());
        mac.update(b":");
        mac.update(csrf.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The PKCE code verifier of a state (RFC 7636 §4.1: 43 characters of the
    /// unreserved set).
    pub(crate) fn verifier(&self, csrf: &str) -> String {
        self.mac("pkce", csrf)
    }

    /// The S256 challenge of that verifier (RFC 7636 §4.2).
    pub(crate) fn challenge(&self, csrf: &str) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier(csrf).as_bytes()))
    }

    /// The OpenID Connect nonce of a state.
    pub(crate) fn nonce(&self, csrf: &str) -> String {
        self.mac("nonce", csrf)
    }

    /// A new state (and the CSRF value its cookie carries), for the user `sub` when
    /// associating.
    pub(crate) fn issue(&self, sub: Option<String>) -> Result<(String, String), ApiError> {
        let csrf = crate::random::urlsafe::<32>().map_err(|error| {
            tracing::error!(%error, "cannot make an OAuth state");
            ApiError::internal()
        })?;
        let claims = StateClaims {
            csrftoken: csrf.clone(),
            aud: STATE_AUDIENCE.to_owned(),
            exp: crate::token::now() + STATE_LIFETIME,
            sub,
        };
        let state = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(self.secret.expose()),
        )
        .map_err(|error| {
            tracing::error!(%error, "cannot sign an OAuth state");
            ApiError::internal()
        })?;
        Ok((state, csrf))
    }

    /// Reads a state and checks it against the CSRF cookie, FastAPI Users' way:
    /// `ACCESS_TOKEN_ALREADY_EXPIRED` for an expired one, `ACCESS_TOKEN_DECODE_ERROR`
    /// for any other bad one (another algorithm or audience included: FastAPI Users
    /// answers those with a 500), `OAUTH_INVALID_STATE` when the cookie is missing or
    /// differs.
    pub(crate) fn read(&self, state: &str, cookie: Option<&str>) -> Result<State, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[STATE_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud"]);
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<StateClaims>(
            state,
            &DecodingKey::from_secret(self.secret.expose()),
            &validation,
        )
        .map_err(|error| match error.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                ApiError::code(ErrorCode::AccessTokenAlreadyExpired)
            }
            _ => ApiError::code(ErrorCode::AccessTokenDecodeError),
        })?
        .claims;
        let matches = cookie.is_some_and(|cookie| {
            !cookie.is_empty() && bool::from(cookie.as_bytes().ct_eq(claims.csrftoken.as_bytes()))
        });
        if !matches {
            return Err(ApiError::code(ErrorCode::OAuthInvalidState));
        }
        Ok(State {
            csrf: claims.csrftoken,
            sub: claims.sub,
            exp: claims.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> StateCodec {
        StateCodec::new(Secret::from("a-state-secret-of-at-least-32-bytes!!")).unwrap()
    }

    #[test]
    fn a_state_reads_back_with_its_cookie_only() {
        let codec = codec();
        let (state, csrf) = codec.issue(Some("user-1".into())).unwrap();
        let read = codec.read(&state, Some(&csrf)).unwrap();
        assert_eq!(read.sub.as_deref(), Some("user-1"));
        assert_eq!(codec.read(&state, Some("other")).unwrap_err().status(), 400);
        assert!(codec.read(&state, None).is_err());
        assert!(codec.read("garbage", Some(&csrf)).is_err());
        let other =
            StateCodec::new(Secret::from("another-state-secret-of-32-bytes-or-more")).unwrap();
        assert!(other.read(&state, Some(&csrf)).is_err());
    }

    #[test]
    fn verifier_and_nonce_are_secret_derivations() {
        let codec = codec();
        let verifier = codec.verifier("csrf-1");
        assert_eq!(verifier.len(), 43);
        assert_ne!(verifier, codec.verifier("csrf-2"));
        assert_ne!(codec.nonce("csrf-1"), verifier);
        assert_eq!(
            codec.challenge("csrf-1"),
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
        );
    }
}
