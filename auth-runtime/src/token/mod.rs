//! The token core: [`JwtStrategy`] issues and verifies JWTs the way FastAPI Users'
//! `JWTStrategy` does, with RFC 8725's strictness on top.

mod algorithm;
mod claims;
mod keys;
mod secret;
pub mod strict;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, crypto};
use serde::Serialize;
use uuid::Uuid;

pub use algorithm::Algorithm;
pub use claims::VerifiedClaims;
pub use secret::Secret;

use crate::ConfigError;

/// FastAPI Users' default access-token audience.
pub const DEFAULT_AUDIENCE: &str = "fastapi-users:auth";

/// Claims the strategy sets itself; extras may not repeat them (a duplicate name is
/// read differently by different libraries).
const RESERVED: [&str; 11] = [
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "sid",
    "auth_time",
    "amr",
    "acr",
    "act",
];

/// The most clock leeway a strategy accepts (RFC 7519 §4.1.4 allows "a small leeway"; ASVS V9 asks for a bounded one).
pub const MAX_LEEWAY_SECONDS: u64 = 60;

/// How long issued tokens live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// `exp = iat + seconds`; verification requires `exp`.
    Seconds(u64),
    /// No `exp` is issued and none is required. Spelled out on purpose: FastAPI Users
    /// mints never-expiring tokens whenever `lifetime_seconds` is falsy.
    Forever,
}

/// Why a token was refused. Every variant is answered with the same 401; the
/// distinction is for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Longer than [`strict::MAX_TOKEN_LEN`].
    #[error("token too large")]
    TooLarge,
    /// Not a compact JWS of canonical base64url JSON objects.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// `alg` missing, not a string, or not the backend's pinned algorithm.
    #[error("algorithm not allowed")]
    Algorithm,
    /// A header parameter we refuse.
    #[error("header refused: {0}")]
    Header(&'static str),
    /// The signature does not verify.
    #[error("bad signature")]
    Signature,
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future.
    #[error("token issued in the future")]
    IssuedInFuture,
    /// No audience of the token is accepted here.
    #[error("audience not accepted")]
    Audience,
    /// A required claim is absent.
    #[error("missing claim {0}")]
    MissingClaim(&'static str),
    /// A claim has the wrong type or form.
    #[error("invalid claim {0}")]
    InvalidClaim(&'static str),
    /// Signing failed (a key problem the startup checks should have caught).
    #[error("signing failed")]
    Signing,
}

/// Issues and verifies JWTs for one backend: one pinned algorithm, one key pair or
/// secret, one audience list.
///
/// ```
/// use warden_runtime::{JwtStrategy, Lifetime};
/// let strategy = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(3600))
///     .build()?;
/// let token = strategy.issue("5b0a07a2-5d3e-4fb0-9b2b-6a6f2e0c6d1e")?;
/// let claims = strategy.verify(&token)?;
/// assert_eq!(claims.aud, ["fastapi-users:auth"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct JwtStrategy {
    algorithm: Algorithm,
    encoding: EncodingKey,
    /// The signing key's public half (or the HMAC secret): it verifies tokens whose
    /// `kid` names no other configured key.
    signing: keys::VerifyingKey,
    /// The public keys rotating in or out, chosen by a token's `kid`.
    rotating: Vec<keys::VerifyingKey>,
    lifetime: Lifetime,
    audience: Vec<String>,
    leeway: i64,
    /// `{"alg":..,"typ":"JWT"}` encoded once: every token we issue shares it.
    header_b64: String,
    /// What `iat`, `exp` and `nbf` are measured against.
    clock: crate::clock::Clock,
}

impl std::fmt::Debug for JwtStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtStrategy")
            .field("algorithm", &self.algorithm)
            .field("lifetime", &self.lifetime)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

/// Options of a [`JwtStrategy`], checked by [`build`](Self::build).
#[derive(Debug, Clone)]
pub struct JwtStrategyBuilder {
    backend: String,
    secret: Secret,
    lifetime: Lifetime,
    algorithm: Algorithm,
    public_key: Option<Secret>,
    verify_keys: Vec<Secret>,
    audience: Vec<String>,
    leeway: u64,
}

impl JwtStrategyBuilder {
    /// Another PEM public key that verifies tokens (and is published in the JWKS)
    /// besides `public_key`, for key rotation: the next key before it signs, the
    /// previous one until its tokens have expired. RS*, PS*, ES* and EdDSA only.
    pub fn verify_key(mut self, pem: impl Into<Secret>) -> Self {
        self.verify_keys.push(pem.into());
        self
    }

    /// The signature algorithm (default HS256). The token header must name exactly it.
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The PEM public key that verifies, for RS*, PS*, ES* and EdDSA. The secret (the
    /// PEM private key) always signs.
    pub fn public_key(mut self, pem: impl Into<Secret>) -> Self {
        self.public_key = Some(pem.into());
        self
    }

    /// Accepted audiences; issued tokens carry all of them (default
    /// `["fastapi-users:auth"]`).
    pub fn audience<I, S>(mut self, audience: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audience = audience.into_iter().map(Into::into).collect();
        self
    }

    /// Clock leeway for `exp`, `nbf` and `iat`, in seconds: 0 (FastAPI Users' value)
    /// by default, at most 60.
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// The backend name used in error messages.
    pub fn backend_name(mut self, name: impl Into<String>) -> Self {
        self.backend = name.into();
        self
    }

    /// Reads the keys and checks every option. Errors name the option and the fix.
    pub fn build(self) -> Result<JwtStrategy, ConfigError> {
        let bad_option = |option, problem: String| ConfigError::BadOption {
            backend: self.backend.clone(),
            option,
            problem,
        };
        if self.lifetime == Lifetime::Seconds(0) {
            return Err(bad_option(
                "lifetime",
                "must be greater than zero; use `forever` for tokens that never expire".into(),
            ));
        }
        if self.audience.is_empty() || self.audience.iter().any(String::is_empty) {
            return Err(bad_option(
                "audience",
                "must be a non-empty list of non-empty strings".into(),
            ));
        }
        if self.leeway > MAX_LEEWAY_SECONDS {
            return Err(bad_option(
                "leeway",
                format!(
                    "{} s is too lenient; at most {MAX_LEEWAY_SECONDS} s",
                    self.leeway
                ),
            ));
        }
        let (encoding, decoding) = keys::load(
            &self.backend,
            self.algorithm,
            &self.secret,
            self.public_key.as_ref(),
        )?;
        let signing = keys::VerifyingKey::new(&self.backend, self.algorithm, decoding)?;
        let mut rotating: Vec<keys::VerifyingKey> = Vec::new();
        for pem in &self.verify_keys {
            if self.algorithm.is_hmac() {
                return Err(bad_option(
                    "verify_keys",
                    format!(
                        "{} has no public keys to rotate: verify_keys needs an RS, PS, ES or EdDSA algorithm",
                        self.algorithm
                    ),
                ));
            }
            let decoding = keys::public(&self.backend, "verify_keys", self.algorithm, pem)?;
            let key = keys::VerifyingKey::new(&self.backend, self.algorithm, decoding)?;
            if key.kid == signing.kid || rotating.iter().any(|other| other.kid == key.kid) {
                return Err(bad_option(
                    "verify_keys",
                    "lists a key twice (or the signing key's own public key): list each other key once".into(),
                ));
            }
            rotating.push(key);
        }
        // Tokens name the key that signed them (RFC 7515 §4.1.4), so a verifier with
        // several keys, ours or one reading the JWKS, picks the right one.
        let header = match &signing.kid {
            Some(kid) => {
                serde_json::json!({ "alg": self.algorithm.as_str(), "typ": "JWT", "kid": kid })
            }
            None => serde_json::json!({ "alg": self.algorithm.as_str(), "typ": "JWT" }),
        };
        Ok(JwtStrategy {
            clock: crate::clock::Clock::system(),
            algorithm: self.algorithm,
            encoding,
            signing,
            rotating,
            lifetime: self.lifetime,
            audience: self.audience,
            leeway: self.leeway as i64,
            header_b64: URL_SAFE_NO_PAD.encode(header.to_string()),
        })
    }
}

#[derive(Serialize)]
struct Claims<'a, T: Serialize> {
    sub: &'a str,
    aud: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    iat: i64,
    jti: String,
    /// The session (OpenID Connect's `sid`): ending it ends the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    /// The last sign-in (OpenID Connect's `auth_time`): a refresh keeps it, a
    /// re-authentication moves it.
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
    /// How the user proved who they are (RFC 8176).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    amr: &'a [String],
    /// The class of the sign-in (OpenID Connect Core §2, RFC 9470): set when it
    /// passed a second factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    acr: Option<&'a str>,
    /// The actor (RFC 8693 §4.1): the superuser acting as `sub` in an
    /// impersonation session, `{"sub": <their id>}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    act: Option<Actor<'a>>,
    #[serde(flatten)]
    extra: &'a T,
}

/// RFC 8693 §4.1's `act` claim: who acts for the subject.
#[derive(Serialize)]
struct Actor<'a> {
    sub: &'a str,
}

/// The session a token belongs to: see [`JwtStrategy::issue_session`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionClaims<'a> {
    /// The session id, the `sid` claim.
    pub sid: &'a str,
    /// The last sign-in, the `auth_time` claim.
    pub auth_time: i64,
    /// The session's end: the token's `exp` is never later.
    pub expires_at: Option<i64>,
    /// The `amr` claim (RFC 8176 values); none when empty.
    pub amr: &'a [String],
    /// The `acr` claim (RFC 9470): the class of the sign-in; none when `None`.
    pub acr: Option<&'a str>,
    /// The `act` claim (RFC 8693 §4.1, `{"sub": ...}`): the superuser acting as
    /// the subject in an impersonation session; none when `None`.
    pub act: Option<&'a str>,
}

impl JwtStrategy {
    /// Starts a strategy: the secret signs (an HMAC secret, or a PEM private key).
    pub fn builder(secret: impl Into<Secret>, lifetime: Lifetime) -> JwtStrategyBuilder {
        JwtStrategyBuilder {
            backend: "jwt".into(),
            secret: secret.into(),
            lifetime,
            algorithm: Algorithm::default(),
            public_key: None,
            verify_keys: Vec::new(),
            audience: vec![DEFAULT_AUDIENCE.into()],
            leeway: 0,
        }
    }

    /// The same strategy, measuring time on `clock` (the warden's, so that tests
    /// move one clock for tokens and sessions alike).
    #[must_use]
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock the strategy measures time on.
    pub fn clock(&self) -> &crate::clock::Clock {
        &self.clock
    }

    /// The pinned algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The token lifetime.
    pub fn lifetime(&self) -> Lifetime {
        self.lifetime
    }

    /// The accepted audiences.
    pub fn audience(&self) -> &[String] {
        &self.audience
    }

    /// The `kid` of the tokens this strategy signs: the RFC 7638 thumbprint of its
    /// public key; `None` for HMAC.
    pub fn kid(&self) -> Option<&str> {
        self.signing.kid.as_deref()
    }

    /// The public keys that verify this strategy's tokens, as JWKs with their `kid`,
    /// `alg` and `use`: the signing key's first. Empty for HMAC, whose secret is
    /// never published.
    pub fn public_jwks(&self) -> Vec<jsonwebtoken::jwk::Jwk> {
        std::iter::once(&self.signing)
            .chain(&self.rotating)
            .filter_map(|key| key.jwk.clone())
            .collect()
    }

    /// The key a token's `kid` names, among the configured ones only; the signing
    /// key's when it names none of them.
    fn key_for(&self, kid: Option<&str>) -> &keys::VerifyingKey {
        kid.and_then(|kid| {
            self.rotating
                .iter()
                .find(|key| key.kid.as_deref() == Some(kid))
        })
        .unwrap_or(&self.signing)
    }

    /// Issues an access token `{sub, aud, exp, iat, jti}`: FastAPI Users' layout plus
    /// `iat` and a unique `jti`, so no two tokens are alike and revocation can key on
    /// them.
    pub fn issue(&self, sub: &str) -> Result<String, TokenError> {
        self.issue_with(sub, &serde_json::Map::new())
    }

    /// Issues a token with extra claims beside the registered ones. Extras may not
    /// name a registered claim (`sub`, `aud`, `exp`, `nbf`, `iat`, `jti`):
    /// [`TokenError::InvalidClaim`].
    pub fn issue_with<T: Serialize>(&self, sub: &str, extra: &T) -> Result<String, TokenError> {
        self.sign(sub, None, extra)
    }

    /// Issues an access token of a session: `sid` and `auth_time` beside the usual
    /// claims, and an `exp` that never passes the session's end.
    ///
    /// ```
    /// use warden_runtime::{JwtStrategy, Lifetime};
    /// use warden_runtime::token::SessionClaims;
    /// let strategy = JwtStrategy::builder("a-secret-of-at-least-thirty-two-bytes", Lifetime::Seconds(3600))
    ///     .build()?;
    /// let now = 1_900_000_000;
    /// let amr = ["pwd".to_owned()];
    /// let session = SessionClaims { sid: "s1", auth_time: now - 10, expires_at: None, amr: &amr, acr: None, act: None };
    /// let token = strategy.issue_session("user-1", &session)?;
    /// assert_eq!(strategy.verify(&token)?.sid.as_deref(), Some("s1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn issue_session(
        &self,
        sub: &str,
        session: &SessionClaims<'_>,
    ) -> Result<String, TokenError> {
        self.sign(sub, Some(session), &serde_json::Map::new())
    }

    fn sign<T: Serialize>(
        &self,
        sub: &str,
        session: Option<&SessionClaims<'_>>,
        extra: &T,
    ) -> Result<String, TokenError> {
        if let Ok(serde_json::Value::Object(extra)) = serde_json::to_value(extra)
            && let Some(name) = RESERVED.iter().find(|name| extra.contains_key(**name))
        {
            return Err(TokenError::InvalidClaim(name));
        }
        let iat = self.clock.now();
        let exp = match self.lifetime {
            Lifetime::Seconds(seconds) => {
                Some(iat.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX)))
            }
            Lifetime::Forever => None,
        };
        let cap = session.and_then(|session| session.expires_at);
        let exp = match (exp, cap) {
            (Some(exp), Some(cap)) => Some(exp.min(cap)),
            (exp, cap) => exp.or(cap),
        };
        let claims = Claims {
            sub,
            aud: &self.audience,
            exp,
            iat,
            jti: Uuid::new_v4().simple().to_string(),
            sid: session.map(|session| session.sid),
            auth_time: session.map(|session| session.auth_time),
            amr: session.map_or(&[], |session| session.amr),
            acr: session.and_then(|session| session.acr),
            act: session
                .and_then(|session| session.act)
                .map(|sub| Actor { sub }),
            extra,
        };
        let payload = serde_json::to_vec(&claims).map_err(|_| TokenError::Signing)?;
        let mut token = String::with_capacity(self.header_b64.len() + payload.len() * 2 + 128);
        token.push_str(&self.header_b64);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signature = crypto::sign(token.as_bytes(), &self.encoding, self.algorithm.to_jwt())
            .map_err(|_| TokenError::Signing)?;
        token.push('.');
        token.push_str(&signature);
        Ok(token)
    }

    /// Verifies a token completely: shape, pinned algorithm, signature over the
    /// segments as received, then the claims (`exp` required unless the lifetime is
    /// forever, `nbf`, `iat`, `aud`, `sub`).
    pub fn verify(&self, token: &str) -> Result<VerifiedClaims, TokenError> {
        let payload = self.verify_signature(token)?;
        let claims = strict::parse_object(&payload)
            .map_err(|_| TokenError::Malformed("payload is not a JSON object"))?;
        claims::validate(
            claims,
            &claims::Rules {
                audience: &self.audience,
                require_exp: self.lifetime != Lifetime::Forever,
                leeway: self.leeway,
                now: self.clock.now(),
            },
        )
    }

    /// Checks shape, algorithm and signature only, and returns the payload bytes
    /// without reading them. For JWS test vectors and custom token kinds; an access
    /// token must go through [`verify`](Self::verify).
    pub fn verify_signature(&self, token: &str) -> Result<Vec<u8>, TokenError> {
        let parts = strict::split(token, self.algorithm)?;
        // The MAC is computed over the received bytes, never re-serialised JSON; the
        // RustCrypto HMAC comparison is constant-time (`verify_slice`).
        let valid = crypto::verify(
            parts.signature,
            parts.signing_input.as_bytes(),
            &self.key_for(parts.kid.as_deref()).decoding,
            self.algorithm.to_jwt(),
        )
        .unwrap_or(false);
        if !valid {
            return Err(TokenError::Signature);
        }
        strict::decode_segment(parts.payload_b64)
    }
}

pub(crate) fn now() -> i64 {
    crate::clock::system_now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extras_cannot_repeat_registered_claims() {
        let strategy = JwtStrategy::builder(
            "a-secret-of-at-least-thirty-two-bytes",
            Lifetime::Seconds(60),
        )
        .build()
        .unwrap();
        for name in RESERVED {
            let extra = serde_json::json!({ name: 1 });
            assert_eq!(
                strategy.issue_with("u", &extra),
                Err(TokenError::InvalidClaim(name))
            );
        }
        let token = strategy
            .issue_with("u", &serde_json::json!({"email": "a@b.co"}))
            .unwrap();
        assert_eq!(strategy.verify(&token).unwrap().extra["email"], "a@b.co");
    }
}
