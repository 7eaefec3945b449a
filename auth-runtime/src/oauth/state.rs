//! The state of an authorization request: FastAPI Users' state JWT (`csrftoken`,
//! audience `fastapi-users:oauth-state`, HS256; the associate router's carries `sub`)
//! and its CSRF cookie, plus what FastAPI Users lacks: the PKCE verifier and the
//! nonce, derived from the cookie's secret value with a key derived from the state
//! secret (see `keyring`) so that they
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
use crate::keyring::{KeyPurpose, Keyring};
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
    /// The id of the key that signed it: its verifier and nonce are under that key.
    pub(crate) kid: String,
}

/// The keys of one secret of the ring: the state JWT's and the challenge MAC's.
struct StateKey {
    kid: String,
    jwt: Secret,
    /// HMAC-SHA256 keyed for PKCE verifiers and nonces, cloned for each derivation.
    challenge: Hmac<Sha256>,
}

/// Signs and reads states, and derives their PKCE verifier and nonce, with keys
/// derived from the state secret ([`KeyPurpose::OAuthState`] and
/// [`KeyPurpose::OAuthChallenge`]); a state names its key by `kid` (RFC 7515
/// §4.1.4), so one issued before a rotation still reads while its secret is in the
/// ring.
pub(crate) struct StateCodec {
    current: StateKey,
    /// The keys of previous secrets, newest first.
    previous: Vec<StateKey>,
}

impl StateCodec {
    /// A codec of `ring`; `None` only if HMAC or HKDF refused a key (neither does
    /// for 32 bytes).
    pub(crate) fn new(ring: &Keyring) -> Option<Self> {
        let jwt = ring.all(KeyPurpose::OAuthState);
        let challenge = ring.all(KeyPurpose::OAuthChallenge);
        if jwt.is_empty() || jwt.len() != challenge.len() {
            return None;
        }
        let mut keys = jwt
            .into_iter()
            .zip(challenge)
            .map(|(jwt, challenge)| {
                Some(StateKey {
                    kid: jwt.kid,
                    jwt: jwt.key,
                    challenge: <Hmac<Sha256> as Mac>::new_from_slice(challenge.key.expose())
                        .ok()?,
                })
            })
            .collect::<Option<Vec<_>>>()?
            .into_iter();
        Some(Self {
            current: keys.next()?,
            previous: keys.collect(),
        })
    }

    /// Every key, the current first.
    fn keys(&self) -> impl Iterator<Item = &StateKey> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    /// The key that signed `state` (the current one if it left the ring since).
    fn key_of(&self, state: &State) -> &StateKey {
        self.keys()
            .find(|key| key.kid == state.kid)
            .unwrap_or(&self.current)
    }

    fn mac(key: &StateKey, purpose: &str, csrf: &str) -> String {
        let mut mac = key.challenge.clone();
        mac.update(purpose.as_bytes());
        mac.update(b":");
        mac.update(csrf.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The PKCE code verifier of a state read back (RFC 7636 §4.1: 43 characters of
    /// the unreserved set), under the key that signed it.
    pub(crate) fn verifier(&self, state: &State) -> String {
        Self::mac(self.key_of(state), "pkce", &state.csrf)
    }

    /// The S256 challenge (RFC 7636 §4.2) of the verifier of a state issued now.
    pub(crate) fn challenge(&self, csrf: &str) -> String {
        let verifier = Self::mac(&self.current, "pkce", csrf);
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
    }

    /// The OpenID Connect nonce of a state issued now.
    pub(crate) fn nonce(&self, csrf: &str) -> String {
        Self::mac(&self.current, "nonce", csrf)
    }

    /// The OpenID Connect nonce of a state read back, under the key that signed it.
    pub(crate) fn nonce_of(&self, state: &State) -> String {
        Self::mac(self.key_of(state), "nonce", &state.csrf)
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
        let key = &self.current;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid.clone());
        let state = jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(key.jwt.expose()),
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
        let decode_error = || ApiError::code(ErrorCode::AccessTokenDecodeError);
        let header = jsonwebtoken::decode_header(state).map_err(|_| decode_error())?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[STATE_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud"]);
        validation.leeway = 0;
        // The key the state names, or each key when it names none; an unknown kid
        // (a removed secret, a forgery) finds none.
        let mut read = None;
        for key in self
            .keys()
            .filter(|key| header.kid.as_ref().is_none_or(|kid| *kid == key.kid))
        {
            match jsonwebtoken::decode::<StateClaims>(
                state,
                &DecodingKey::from_secret(key.jwt.expose()),
                &validation,
            ) {
                Ok(data) => {
                    read = Some((data.claims, key.kid.clone()));
                    break;
                }
                Err(error) => match error.kind() {
                    jsonwebtoken::errors::ErrorKind::InvalidSignature => continue,
                    // The signature held (it is checked first): expired under this key.
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                        return Err(ApiError::code(ErrorCode::AccessTokenAlreadyExpired));
                    }
                    _ => return Err(decode_error()),
                },
            }
        }
        let (claims, kid) = read.ok_or_else(decode_error)?;
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
            kid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-state-secret-of-at-least-32-bytes!!";
    const OLD: &str = "the-previous-state-secret-of-32-bytes";

    fn codec_of(ring: &Keyring) -> StateCodec {
        StateCodec::new(ring).unwrap()
    }

    fn ring(secret: &str) -> Keyring {
        Keyring::new(&Secret::from(secret)).unwrap()
    }

    fn codec() -> StateCodec {
        codec_of(&ring(SECRET))
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
        let other = codec_of(&ring("another-state-secret-of-32-bytes-or-more"));
        assert!(other.read(&state, Some(&csrf)).is_err());
    }

    #[test]
    fn the_state_is_not_signed_with_the_secret_itself() {
        let (state, csrf) = codec().issue(None).unwrap();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[STATE_AUDIENCE]);
        assert!(
            jsonwebtoken::decode::<StateClaims>(
                &state,
                &DecodingKey::from_secret(SECRET.as_bytes()),
                &validation,
            )
            .is_err()
        );
        assert!(codec().read(&state, Some(&csrf)).is_ok());
    }

    #[test]
    fn a_state_from_before_a_rotation_reads_until_its_secret_goes() {
        let before = codec_of(&ring(OLD));
        let (state, csrf) = before.issue(None).unwrap();
        let challenge = before.challenge(&csrf);
        let nonce = before.nonce(&csrf);

        let rotated = codec_of(&ring(SECRET).previous(&Secret::from(OLD)).unwrap());
        let read = rotated.read(&state, Some(&csrf)).unwrap();
        // The verifier and nonce are the ones the authorization request was made with.
        assert_eq!(
            URL_SAFE_NO_PAD.encode(Sha256::digest(rotated.verifier(&read).as_bytes())),
            challenge
        );
        assert_eq!(rotated.nonce_of(&read), nonce);
        // New states are under the new key, which the old codec does not know.
        let (fresh, fresh_csrf) = rotated.issue(None).unwrap();
        assert!(before.read(&fresh, Some(&fresh_csrf)).is_err());
        // With the old secret removed, the old state no longer reads.
        assert_eq!(codec().read(&state, Some(&csrf)).unwrap_err().status(), 400);
    }

    #[test]
    fn an_unknown_kid_is_refused_and_no_kid_tries_each_key() {
        let old = ring(OLD);
        let rotated = codec_of(&ring(SECRET).previous(&Secret::from(OLD)).unwrap());
        let claims = StateClaims {
            csrftoken: "csrf-1".into(),
            aud: STATE_AUDIENCE.into(),
            exp: crate::token::now() + 60,
            sub: None,
        };
        let key = old.current(KeyPurpose::OAuthState).unwrap().key;
        let sign = |kid: Option<&str>| {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = kid.map(str::to_owned);
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(key.expose())).unwrap()
        };
        assert!(rotated.read(&sign(None), Some("csrf-1")).is_ok());
        assert!(
            rotated
                .read(&sign(Some("not-a-kid")), Some("csrf-1"))
                .is_err()
        );
        let current_kid = ring(SECRET).current(KeyPurpose::OAuthState).unwrap().kid;
        assert!(
            rotated
                .read(&sign(Some(&current_kid)), Some("csrf-1"))
                .is_err(),
            "the wrong key's kid"
        );
    }

    #[test]
    fn verifier_and_nonce_are_secret_derivations() {
        let codec = codec();
        let (state, csrf) = codec.issue(None).unwrap();
        let read = codec.read(&state, Some(&csrf)).unwrap();
        let verifier = codec.verifier(&read);
        assert_eq!(verifier.len(), 43);
        let (other, other_csrf) = codec.issue(None).unwrap();
        let other = codec.read(&other, Some(&other_csrf)).unwrap();
        assert_ne!(verifier, codec.verifier(&other));
        assert_ne!(codec.nonce_of(&read), verifier);
        assert_eq!(codec.nonce_of(&read), codec.nonce(&csrf));
        assert_eq!(
            codec.challenge(&csrf),
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
        );
    }
}
