//! Talking to the provider: OpenID Connect discovery and keys, the authorization URL,
//! the code exchange, and the identity, read from the ID token verified against the
//! provider's keys (issuer, audience, expiry, nonce), with `userinfo` only as a
//! complement (OpenID Connect Core §3.1.3.7, §5.3.2).

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::RwLock;

use crate::token::Secret;

/// How long a call to the provider may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The ID token signature algorithms accepted: asymmetric only (an HMAC keyed by the
/// client secret would let anyone who knows the secret mint identities), never
/// `none`.
const ID_TOKEN_ALGORITHMS: [jsonwebtoken::Algorithm; 8] = [
    jsonwebtoken::Algorithm::RS256,
    jsonwebtoken::Algorithm::RS384,
    jsonwebtoken::Algorithm::RS512,
    jsonwebtoken::Algorithm::PS256,
    jsonwebtoken::Algorithm::PS384,
    jsonwebtoken::Algorithm::PS512,
    jsonwebtoken::Algorithm::ES256,
    jsonwebtoken::Algorithm::ES384,
];

/// Why the provider could not give an identity. Each is answered 400 with FastAPI's
/// `{"detail"}` (503 when the provider is out of reach), and logged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The provider cannot be reached or answered garbage.
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the code (bad, expired or used).
    #[error("the identity provider refused the code: {0}")]
    Exchange(String),
    /// The ID token does not verify.
    #[error("the ID token is invalid: {0}")]
    IdToken(String),
    /// The authorization response names another issuer, or none where the provider
    /// says it always names itself (RFC 9207 §2.4): a mix-up attack.
    #[error("the authorization response's issuer is not this provider: {0}")]
    Issuer(String),
}

/// The provider's tokens for the account (never logged: `Debug` hides them).
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ProviderTokens {
    /// The access token, for the provider's APIs.
    pub access_token: String,
    /// The refresh token, if the provider gave one.
    pub refresh_token: Option<String>,
    /// When the access token expires (Unix seconds), if the provider said.
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for ProviderTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderTokens")
            .field("access_token", &"[REDACTED]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Who logged in at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Identity {
    /// The provider's account id (`sub`).
    pub account_id: String,
    /// The e-mail the provider gives, if any.
    pub email: Option<String>,
    /// Whether the provider asserts that it verified that e-mail.
    pub email_verified: bool,
    /// The provider's tokens.
    pub tokens: ProviderTokens,
    /// How the provider says the user proved who they are: its ID token's `amr`
    /// (RFC 8176), empty when it has none (GitHub, or no such claim).
    pub amr: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: Option<String>,
    jwks_uri: String,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Vec<String>,
    /// RFC 9207 §3: the provider names itself in every authorization response.
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

/// What discovery found, with the keys.
struct Discovered {
    discovery: Discovery,
    keys: RwLock<JwkSet>,
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    id_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
    /// GitHub answers a refused code with 200 and this.
    error: Option<String>,
}

impl TokenResponse {
    fn provider_tokens(&self) -> ProviderTokens {
        ProviderTokens {
            access_token: self.access_token.clone().unwrap_or_default(),
            refresh_token: self.refresh_token.clone(),
            expires_at: self
                .expires_in
                .map(|seconds| crate::token::now().saturating_add(seconds)),
        }
    }
}

#[derive(Debug, Deserialize)]
struct IdClaims {
    sub: String,
    nonce: Option<String>,
    email: Option<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    email_verified: bool,
    /// RFC 8176 values; anything but an array of strings is ignored.
    #[serde(default, deserialize_with = "string_list")]
    amr: Vec<String>,
}

/// An array of short strings, or nothing: a provider's odd `amr` is not a reason
/// to refuse its login, only to record none.
fn string_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Array(values) => values
            .into_iter()
            .filter_map(|value| match value {
                Value::String(method)
                    if !method.is_empty()
                        && method.len() <= 32
                        && !method.contains(char::is_whitespace) =>
                {
                    Some(method)
                }
                _ => None,
            })
            .take(8)
            .collect(),
        _ => Vec::new(),
    })
}

/// Some providers send `email_verified` as a string.
fn flexible_bool<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Bool(value) => value,
        Value::String(value) => value == "true",
        _ => false,
    })
}

/// Where a provider's endpoints are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoints {
    /// OpenID Connect: found by discovery at the issuer.
    Oidc { issuer: String },
    /// GitHub (or GitHub Enterprise Server): `{web}/login/oauth/...` and the REST API
    /// at `api`.
    GitHub { web: String, api: String },
}

/// One provider, as a client of it.
pub(crate) struct ProviderClient {
    pub(crate) name: String,
    endpoints: Endpoints,
    client_id: String,
    client_secret: Secret,
    pub(crate) scopes: Vec<String>,
    http: reqwest::Client,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

fn unavailable(error: impl std::fmt::Display) -> OAuthError {
    OAuthError::Unavailable(error.to_string())
}

impl ProviderClient {
    pub(crate) fn new(
        name: &str,
        endpoints: Endpoints,
        client_id: String,
        client_secret: Secret,
        scopes: Vec<String>,
    ) -> Result<Self, crate::ConfigError> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| crate::ConfigError::BadOption {
                backend: name.to_owned(),
                option: "issuer",
                problem: format!("no HTTP client: {error}"),
            })?;
        Ok(Self {
            name: name.to_owned(),
            endpoints: match endpoints {
                Endpoints::Oidc { issuer } => Endpoints::Oidc {
                    issuer: issuer.trim_end_matches('/').to_owned(),
                },
                Endpoints::GitHub { web, api } => Endpoints::GitHub {
                    web: web.trim_end_matches('/').to_owned(),
                    api: api.trim_end_matches('/').to_owned(),
                },
            },
            client_id,
            client_secret,
            scopes,
            http,
            discovered: RwLock::new(None),
        })
    }

    /// The discovery document and keys, fetched on first use and kept; a failure is
    /// not kept, so the next request tries again.
    async fn discovered(&self) -> Result<Arc<Discovered>, OAuthError> {
        if let Some(found) = self.discovered.read().await.as_ref() {
            return Ok(Arc::clone(found));
        }
        let Endpoints::Oidc { issuer } = &self.endpoints else {
            return Err(OAuthError::Unavailable(
                "not an OpenID Connect provider".into(),
            ));
        };
        let url = format!("{issuer}/.well-known/openid-configuration");
        let discovery: Discovery = self.get_json(self.http.get(&url)).await?;
        // OpenID Connect Discovery §4.3: the issuer must be the one asked.
        if discovery.issuer.trim_end_matches('/') != issuer {
            return Err(OAuthError::Unavailable(format!(
                "discovery at {url} names issuer {}, not {issuer}",
                discovery.issuer
            )));
        }
        let keys = self.fetch_keys(&discovery.jwks_uri).await?;
        let found = Arc::new(Discovered {
            discovery,
            keys: RwLock::new(keys),
        });
        *self.discovered.write().await = Some(Arc::clone(&found));
        Ok(found)
    }

    async fn fetch_keys(&self, jwks_uri: &str) -> Result<JwkSet, OAuthError> {
        self.get_json(self.http.get(jwks_uri)).await
    }

    /// A provider document: out of reach, an error status or not JSON is
    /// [`OAuthError::Unavailable`].
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, OAuthError> {
        request
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)
    }

    /// Whether the provider speaks OpenID Connect (then `openid` is always asked).
    pub(crate) fn is_oidc(&self) -> bool {
        matches!(self.endpoints, Endpoints::Oidc { .. })
    }

    /// The URL the browser is sent to: the authorization code flow with PKCE (S256),
    /// and for OpenID Connect a nonce.
    pub(crate) async fn authorization_url(
        &self,
        redirect_uri: &str,
        state: &str,
        challenge: &str,
        nonce: &str,
        scopes: &[String],
    ) -> Result<String, OAuthError> {
        let scope = scopes.join(" ");
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("state", state),
            ("scope", scope.as_str()),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ];
        let endpoint = match &self.endpoints {
            Endpoints::Oidc { .. } => {
                params.push(("nonce", nonce));
                self.discovered()
                    .await?
                    .discovery
                    .authorization_endpoint
                    .clone()
            }
            Endpoints::GitHub { web, .. } => format!("{web}/login/oauth/authorize"),
        };
        let query = serde_urlencoded::to_string(params).map_err(unavailable)?;
        let separator = if endpoint.contains('?') { '&' } else { '?' };
        Ok(format!("{endpoint}{separator}{query}"))
    }

    /// Checks the `iss` of an authorization response (RFC 9207 §2.4), before its
    /// code is redeemed: when present it must be this provider's issuer, by simple
    /// string comparison (for an OpenID Connect provider the discovered `issuer`;
    /// for GitHub, which names none, its web URL); when the provider's metadata sets
    /// `authorization_response_iss_parameter_supported` it must be present. A
    /// response from another provider (a mix-up attack, RFC 9700 §4.4) is refused.
    pub(crate) async fn check_issuer(&self, iss: Option<&str>) -> Result<(), OAuthError> {
        let (expected, required) = match &self.endpoints {
            Endpoints::Oidc { .. } => {
                let discovered = self.discovered().await?;
                let discovery = &discovered.discovery;
                (
                    discovery.issuer.clone(),
                    discovery.authorization_response_iss_parameter_supported,
                )
            }
            Endpoints::GitHub { web, .. } => (web.clone(), false),
        };
        match iss {
            Some(iss) if iss == expected => Ok(()),
            Some(iss) => Err(OAuthError::Issuer(format!(
                "`{}`, not `{expected}`",
                iss.chars().take(200).collect::<String>()
            ))),
            None if required => Err(OAuthError::Issuer(
                "none, though the provider's metadata says it always names itself".into(),
            )),
            None => Ok(()),
        }
    }

    /// Redeems the code at the token endpoint (RFC 6749 §4.1.3, with the PKCE
    /// verifier), authenticating with HTTP Basic (RFC 6749 §2.3.1) or, where the
    /// provider takes only that, the secret in the body. A refusal, whether an error
    /// status or GitHub's 200 with `error`, is [`OAuthError::Exchange`].
    async fn exchange(
        &self,
        endpoint: &str,
        basic: bool,
        form: &[(&str, &str)],
    ) -> Result<TokenResponse, OAuthError> {
        let secret = std::str::from_utf8(self.client_secret.expose())
            .map_err(|_| OAuthError::Exchange("the client secret is not UTF-8".into()))?;
        let request = self
            .http
            .post(endpoint)
            .header("accept", "application/json");
        let request = if basic {
            let encode = |value: &str| {
                serde_urlencoded::to_string([("", value)])
                    .map(|pair| pair.trim_start_matches('=').to_owned())
                    .unwrap_or_default()
            };
            request
                .basic_auth(encode(&self.client_id), Some(encode(secret)))
                .form(form)
        } else {
            let mut body = form.to_vec();
            body.push(("client_id", self.client_id.as_str()));
            body.push(("client_secret", secret));
            request.form(&body)
        };
        let response = request.send().await.map_err(unavailable)?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(if status.is_client_error() {
                OAuthError::Exchange(format!(
                    "{status}: {}",
                    body.chars().take(200).collect::<String>()
                ))
            } else {
                OAuthError::Unavailable(format!("token endpoint answered {status}"))
            });
        }
        let tokens: TokenResponse = response.json().await.map_err(unavailable)?;
        if let Some(error) = &tokens.error {
            return Err(OAuthError::Exchange(error.clone()));
        }
        if tokens.access_token.is_none() {
            return Err(OAuthError::Exchange("no access_token in the answer".into()));
        }
        Ok(tokens)
    }

    /// Exchanges the code (with the PKCE verifier) and reads the identity.
    pub(crate) async fn identity(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<Identity, OAuthError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ];
        match &self.endpoints {
            Endpoints::Oidc { .. } => self.oidc_identity(&form, nonce).await,
            Endpoints::GitHub { web, api } => {
                let tokens = self
                    .exchange(&format!("{web}/login/oauth/access_token"), false, &form)
                    .await?;
                let mut identity = self
                    .github_identity(api, tokens.access_token.as_deref().unwrap_or_default())
                    .await?;
                identity.tokens = tokens.provider_tokens();
                Ok(identity)
            }
        }
    }

    async fn oidc_identity(
        &self,
        form: &[(&str, &str)],
        nonce: &str,
    ) -> Result<Identity, OAuthError> {
        let discovered = self.discovered().await?;
        let discovery = &discovered.discovery;
        let basic = discovery.token_endpoint_auth_methods_supported.is_empty()
            || discovery
                .token_endpoint_auth_methods_supported
                .iter()
                .any(|method| method == "client_secret_basic");
        let tokens = self
            .exchange(&discovery.token_endpoint, basic, form)
            .await?;
        let id_token = tokens
            .id_token
            .clone()
            .ok_or_else(|| OAuthError::IdToken("the token response has no id_token".into()))?;
        let claims = self.verify_id_token(&discovered, &id_token, nonce).await?;
        let mut identity = Identity {
            account_id: claims.sub.clone(),
            email: claims.email,
            email_verified: claims.email_verified,
            tokens: tokens.provider_tokens(),
            amr: claims.amr,
        };
        if identity.email.is_none()
            && let Some(userinfo) = &discovery.userinfo_endpoint
        {
            let info: IdClaims = self
                .get_json(
                    self.http
                        .get(userinfo)
                        .bearer_auth(&identity.tokens.access_token),
                )
                .await?;
            // OpenID Connect Core §5.3.2: userinfo about someone else is ignored.
            if info.sub == claims.sub {
                identity.email = info.email;
                identity.email_verified = info.email_verified;
            }
        }
        Ok(identity)
    }

    /// GitHub's `GET /user` (the account id) and `GET /user/emails` (which e-mail is
    /// primary and verified: GitHub's `/user` e-mail carries no such flag, and is
    /// null when private).
    async fn github_identity(&self, api: &str, access_token: &str) -> Result<Identity, OAuthError> {
        #[derive(Deserialize)]
        struct GitHubUser {
            id: u64,
        }
        #[derive(Deserialize)]
        struct GitHubEmail {
            email: String,
            primary: bool,
            verified: bool,
        }
        let get = |path: &str| {
            self.http
                .get(format!("{api}{path}"))
                .bearer_auth(access_token)
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28")
                // GitHub's REST API refuses requests without a User-Agent.
                .header("user-agent", "warden")
        };
        let user: GitHubUser = self.get_json(get("/user")).await?;
        let emails: Vec<GitHubEmail> = self.get_json(get("/user/emails")).await?;
        let primary = emails.into_iter().find(|email| email.primary);
        Ok(Identity {
            account_id: user.id.to_string(),
            email_verified: primary.as_ref().is_some_and(|email| email.verified),
            email: primary.map(|email| email.email),
            tokens: ProviderTokens::default(),
            amr: Vec::new(),
        })
    }

    async fn verify_id_token(
        &self,
        discovered: &Discovered,
        id_token: &str,
        nonce: &str,
    ) -> Result<IdClaims, OAuthError> {
        let header = jsonwebtoken::decode_header(id_token)
            .map_err(|error| OAuthError::IdToken(error.to_string()))?;
        if !ID_TOKEN_ALGORITHMS.contains(&header.alg) {
            return Err(OAuthError::IdToken(format!(
                "algorithm {:?} refused",
                header.alg
            )));
        }
        let find = |keys: &JwkSet| match &header.kid {
            Some(kid) => keys.find(kid).cloned(),
            None if keys.keys.len() == 1 => keys.keys.first().cloned(),
            None => None,
        };
        let mut key = find(&*discovered.keys.read().await);
        if key.is_none() {
            // The provider rotated its keys: fetch them again, once.
            let fresh = self.fetch_keys(&discovered.discovery.jwks_uri).await?;
            key = find(&fresh);
            *discovered.keys.write().await = fresh;
        }
        let key =
            key.ok_or_else(|| OAuthError::IdToken("no provider key matches its kid".into()))?;
        let key =
            DecodingKey::from_jwk(&key).map_err(|error| OAuthError::IdToken(error.to_string()))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[discovered.discovery.issuer.as_str()]);
        validation.set_audience(&[self.client_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 60;
        let claims = jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation)
            .map_err(|error| OAuthError::IdToken(error.to_string()))?
            .claims;
        let nonce_matches = claims.nonce.as_deref().is_some_and(|claimed| {
            bool::from(subtle::ConstantTimeEq::ct_eq(
                claimed.as_bytes(),
                nonce.as_bytes(),
            ))
        });
        if !nonce_matches {
            return Err(OAuthError::IdToken(
                "nonce missing or not this request's".into(),
            ));
        }
        Ok(claims)
    }
}
