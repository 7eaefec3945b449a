//! The state of an authorization request and its CSRF cookie.
//!
//! FastAPI Users' state JWT (audience `fastapi-users:oauth-state`, HS256; the
//! associate router's carries `sub`) puts the CSRF cookie's value itself in the
//! state (`csrftoken`): whoever reads the authorization response's URL (a Referer,
//! a proxy log, the browser's history, an open redirector) then knows the cookie
//! too, and with the `code` logs in as the victim (RFC 9700 §4.5; the PKCE
//! verifier and nonce, were they derived from that value, would not stop it).
//! Here the cookie holds a random secret that never appears in a URL; the state
//! carries a keyed hash of it (`csrfhash`), under a key of its own
//! ([`KeyPurpose::OAuthCsrfBinding`]). The PKCE verifier and the nonce derive from
//! the cookie's secret ([`KeyPurpose::OAuthChallenge`]), so only the browser that
//! asked can redeem the code. The hash, the verifier and the nonce name the client
//! and the router, so a state of one router is refused at another's callback. The
//! state is signed with a key of its own ([`KeyPurpose::OAuthState`]); all three
//! come from the state secret through the keyring, and need no storage; a single
//! use is enforced across instances by the store's counters.

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
/// FastAPI Users' CSRF cookie, as served over plain HTTP (development).
pub const CSRF_COOKIE: &str = "fastapiusersoauthcsrf";
/// The CSRF cookie served over HTTPS: the `__Host-` prefix makes the browser accept
/// it only `Secure`, from this very host, with `Path=/` and no `Domain`, so that a
/// sibling subdomain cannot plant one (RFC 6265bis §4.1.3.2; OWASP ASVS 3.4.4).
pub const SECURE_CSRF_COOKIE: &str = "__Host-fastapiusersoauthcsrf";
/// How long an authorization request may take, in seconds (FastAPI Users: an hour;
/// a login at a provider takes minutes).
pub const STATE_LIFETIME: i64 = 600;

#[derive(Serialize, Deserialize)]
struct StateClaims {
    /// The keyed hash of the CSRF cookie's secret (never the secret itself).
    csrfhash: String,
    aud: String,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
}

/// A verified state.
#[derive(Debug, Clone)]
pub(crate) struct State {
    /// The CSRF cookie's secret: what the verifier and the nonce derive from.
    secret: Secret,
    /// The keyed hash of the secret the state carries: public, names this state
    /// (the single-use counter's key).
    pub(crate) binding: String,
    pub(crate) sub: Option<String>,
    pub(crate) exp: i64,
    /// The id of the key that signed it: its verifier and nonce are under that key.
    pub(crate) kid: String,
}

/// The keys of one secret of the ring: the state JWT's, the cookie hash's and the
/// challenge MAC's.
struct StateKey {
    kid: String,
    jwt: Secret,
    /// HMAC-SHA256 keyed for the hash of the cookie's secret.
    binding: Hmac<Sha256>,
    /// HMAC-SHA256 keyed for PKCE verifiers and nonces, cloned for each derivation.
    challenge: Hmac<Sha256>,
}

/// Signs and reads the states of one router, and derives their PKCE verifier and
/// nonce, with keys derived from the state secret ([`KeyPurpose::OAuthState`],
/// [`KeyPurpose::OAuthCsrfBinding`] and [`KeyPurpose::OAuthChallenge`]); a state
/// names its key by `kid` (RFC 7515 §4.1.4), so one issued before a rotation still
/// reads while its secret is in the ring.
pub(crate) struct StateCodec {
    current: StateKey,
    /// The keys of previous secrets, newest first.
    previous: Vec<StateKey>,
    /// The client's name: part of every derivation.
    client: String,
    /// The router (`oidc`, `associate/oidc`): part of every derivation.
    router: String,
}

impl StateCodec {
    /// The codec of the router `router` (its path under `/auth/`) of the client
    /// `client`, under `ring`; `None` only if HMAC or HKDF refused a key (neither
    /// does for 32 bytes).
    pub(crate) fn new(ring: &Keyring, client: &str, router: &str) -> Option<Self> {
        let jwt = ring.all(KeyPurpose::OAuthState);
        let binding = ring.all(KeyPurpose::OAuthCsrfBinding);
        let challenge = ring.all(KeyPurpose::OAuthChallenge);
        if jwt.is_empty() || jwt.len() != challenge.len() || jwt.len() != binding.len() {
            return None;
        }
        let hmac = |key: &Secret| <Hmac<Sha256> as Mac>::new_from_slice(key.expose()).ok();
        let mut keys = jwt
            .into_iter()
            .zip(binding)
            .zip(challenge)
            .map(|((jwt, binding), challenge)| {
                Some(StateKey {
                    kid: jwt.kid,
                    jwt: jwt.key,
                    binding: hmac(&binding.key)?,
                    challenge: hmac(&challenge.key)?,
                })
            })
            .collect::<Option<Vec<_>>>()?
            .into_iter();
        Some(Self {
            current: keys.next()?,
            previous: keys.collect(),
            client: client.to_owned(),
            router: router.to_owned(),
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

    /// HMAC over `purpose`, the client, the router and `secret`, each field
    /// length-prefixed so that no two inputs read alike; base64url (43 characters).
    fn mac(&self, key: &Hmac<Sha256>, purpose: &str, secret: &[u8]) -> String {
        let mut mac = key.clone();
        for field in [
            purpose.as_bytes(),
            self.client.as_bytes(),
            self.router.as_bytes(),
            secret,
        ] {
            mac.update(&u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes());
            mac.update(field);
        }
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The PKCE code verifier of a state read back (RFC 7636 §4.1: 43 characters of
    /// the unreserved set), under the key that signed it.
    pub(crate) fn verifier(&self, state: &State) -> String {
        self.mac(&self.key_of(state).challenge, "pkce", state.secret.expose())
    }

    /// The S256 challenge (RFC 7636 §4.2) of the verifier of a state issued now
    /// with the cookie secret `secret`.
    pub(crate) fn challenge(&self, secret: &Secret) -> String {
        let verifier = self.mac(&self.current.challenge, "pkce", secret.expose());
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
    }

    /// The OpenID Connect nonce of a state issued now with the cookie secret
    /// `secret`.
    pub(crate) fn nonce(&self, secret: &Secret) -> String {
        self.mac(&self.current.challenge, "nonce", secret.expose())
    }

    /// The OpenID Connect nonce of a state read back, under the key that signed it.
    pub(crate) fn nonce_of(&self, state: &State) -> String {
        self.mac(
            &self.key_of(state).challenge,
            "nonce",
            state.secret.expose(),
        )
    }

    /// A new state, and the secret its CSRF cookie carries, for the user `sub` when
    /// associating.
    pub(crate) fn issue(&self, sub: Option<String>) -> Result<(String, Secret), ApiError> {
        let secret = crate::random::urlsafe::<32>().map_err(|error| {
            tracing::error!(%error, "cannot make an OAuth state");
            ApiError::internal()
        })?;
        let key = &self.current;
        let claims = StateClaims {
            csrfhash: self.mac(&key.binding, "csrf", secret.as_bytes()),
            aud: STATE_AUDIENCE.to_owned(),
            exp: crate::token::now() + STATE_LIFETIME,
            sub,
        };
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
        Ok((state, Secret::from(secret)))
    }

    /// Reads a state and checks it against the CSRF cookie: FastAPI Users' codes,
    /// `ACCESS_TOKEN_ALREADY_EXPIRED` for an expired one, `ACCESS_TOKEN_DECODE_ERROR`
    /// for any other bad one (another algorithm or audience included: FastAPI Users
    /// answers those with a 500), `OAUTH_INVALID_STATE` when the cookie is missing
    /// or is not the one the state was issued with by this router.
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
                    read = Some((data.claims, key));
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
        let (claims, key) = read.ok_or_else(decode_error)?;
        // The cookie's hash under the key that signed the state, compared in
        // constant time: a cookie holding the state's own `csrfhash` (all that a
        // leaked URL tells) hashes to something else.
        let matches = cookie
            .filter(|cookie| !cookie.is_empty())
            .is_some_and(|cookie| {
                let hashed = self.mac(&key.binding, "csrf", cookie.as_bytes());
                bool::from(hashed.as_bytes().ct_eq(claims.csrfhash.as_bytes()))
            });
        let Some(cookie) = cookie.filter(|_| matches) else {
            return Err(ApiError::code(ErrorCode::OAuthInvalidState));
        };
        Ok(State {
            secret: Secret::from(cookie),
            binding: claims.csrfhash,
            sub: claims.sub,
            exp: claims.exp,
            kid: key.kid.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-state-secret-of-at-least-32-bytes!!";
    const OLD: &str = "the-previous-state-secret-of-32-bytes";

    fn codec_of(ring: &Keyring) -> StateCodec {
        StateCodec::new(ring, "oidc", "oidc").unwrap()
    }

    fn ring(secret: &str) -> Keyring {
        Keyring::new(&Secret::from(secret)).unwrap()
    }

    fn codec() -> StateCodec {
        codec_of(&ring(SECRET))
    }

    fn text(secret: &Secret) -> &str {
        std::str::from_utf8(secret.expose()).unwrap()
    }

    /// The claims of a state, as anyone who sees the URL reads them.
    fn claims(state: &str) -> serde_json::Value {
        let payload = state.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }

    #[test]
    fn a_state_reads_back_with_its_cookie_only() {
        let codec = codec();
        let (state, cookie) = codec.issue(Some("user-1".into())).unwrap();
        let read = codec.read(&state, Some(text(&cookie))).unwrap();
        assert_eq!(read.sub.as_deref(), Some("user-1"));
        assert_eq!(codec.read(&state, Some("other")).unwrap_err().status(), 400);
        assert!(codec.read(&state, None).is_err());
        assert!(codec.read(&state, Some("")).is_err());
        assert!(codec.read("garbage", Some(text(&cookie))).is_err());
        let other = codec_of(&ring("another-state-secret-of-32-bytes-or-more"));
        assert!(other.read(&state, Some(text(&cookie))).is_err());
    }

    #[test]
    fn what_the_url_shows_is_not_the_cookie() {
        let codec = codec();
        let (state, cookie) = codec.issue(None).unwrap();
        let claims = claims(&state);
        let shown = claims["csrfhash"].as_str().unwrap();
        assert!(claims.get("csrftoken").is_none());
        assert!(!state.contains(text(&cookie)));
        // The state's hash as the cookie: refused, as FastAPI Users' format was not.
        assert_eq!(codec.read(&state, Some(shown)).unwrap_err().status(), 400);
        // Neither the challenge nor the nonce is the hash or the cookie.
        for public in [codec.challenge(&cookie), codec.nonce(&cookie)] {
            assert_ne!(public, shown);
            assert_ne!(public, text(&cookie));
        }
    }

    #[test]
    fn a_state_of_one_router_is_refused_by_another() {
        let ring = ring(SECRET);
        let login = StateCodec::new(&ring, "oidc", "oidc").unwrap();
        let (state, cookie) = login.issue(None).unwrap();
        for (client, router) in [
            ("oidc", "oidc-link"),
            ("oidc", "associate/oidc"),
            ("gh", "oidc"),
        ] {
            let other = StateCodec::new(&ring, client, router).unwrap();
            assert_eq!(
                other
                    .read(&state, Some(text(&cookie)))
                    .unwrap_err()
                    .status(),
                400,
                "{client} {router}"
            );
            // Their verifiers and nonces differ too.
            assert_ne!(other.challenge(&cookie), login.challenge(&cookie));
            assert_ne!(other.nonce(&cookie), login.nonce(&cookie));
        }
    }

    #[test]
    fn the_state_is_not_signed_with_the_secret_itself() {
        let (state, cookie) = codec().issue(None).unwrap();
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
        assert!(codec().read(&state, Some(text(&cookie))).is_ok());
    }

    #[test]
    fn a_state_from_before_a_rotation_reads_until_its_secret_goes() {
        let before = codec_of(&ring(OLD));
        let (state, cookie) = before.issue(None).unwrap();
        let challenge = before.challenge(&cookie);
        let nonce = before.nonce(&cookie);

        let rotated = codec_of(&ring(SECRET).previous(&Secret::from(OLD)).unwrap());
        let read = rotated.read(&state, Some(text(&cookie))).unwrap();
        // The verifier and nonce are the ones the authorization request was made with.
        assert_eq!(
            URL_SAFE_NO_PAD.encode(Sha256::digest(rotated.verifier(&read).as_bytes())),
            challenge
        );
        assert_eq!(rotated.nonce_of(&read), nonce);
        // New states are under the new key, which the old codec does not know.
        let (fresh, fresh_cookie) = rotated.issue(None).unwrap();
        assert!(before.read(&fresh, Some(text(&fresh_cookie))).is_err());
        // With the old secret removed, the old state no longer reads.
        assert_eq!(
            codec()
                .read(&state, Some(text(&cookie)))
                .unwrap_err()
                .status(),
            400
        );
    }

    #[test]
    fn an_unknown_kid_is_refused_and_no_kid_tries_each_key() {
        let old = ring(OLD);
        let old_codec = codec_of(&old);
        let rotated = codec_of(&ring(SECRET).previous(&Secret::from(OLD)).unwrap());
        let claims = StateClaims {
            csrfhash: old_codec.mac(&old_codec.current.binding, "csrf", b"csrf-1"),
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
        let (state, cookie) = codec.issue(None).unwrap();
        let read = codec.read(&state, Some(text(&cookie))).unwrap();
        let verifier = codec.verifier(&read);
        assert_eq!(verifier.len(), 43);
        let (other, other_cookie) = codec.issue(None).unwrap();
        let other = codec.read(&other, Some(text(&other_cookie))).unwrap();
        assert_ne!(verifier, codec.verifier(&other));
        assert_ne!(codec.nonce_of(&read), verifier);
        assert_ne!(read.binding, verifier);
        assert_eq!(codec.nonce_of(&read), codec.nonce(&cookie));
        assert_eq!(
            codec.challenge(&cookie),
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
        );
        assert!(!format!("{read:?}").contains(text(&cookie)));
    }
}
