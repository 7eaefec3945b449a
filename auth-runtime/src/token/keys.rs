//! Turning configured secrets and PEM files into jsonwebtoken keys, with the checks
//! that make a bad key stop startup instead of failing the first login.

use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{DecodingKey, EncodingKey, crypto};

use super::algorithm::Family;
use super::{Algorithm, Secret};
use crate::ConfigError;

/// Smallest RSA modulus we accept (NIST SP 800-131A, RFC 7518 §3.3).
const MIN_RSA_BYTES: usize = 2048 / 8;

pub(crate) fn load(
    backend: &str,
    algorithm: Algorithm,
    secret: &Secret,
    public_key: Option<&Secret>,
) -> Result<(EncodingKey, DecodingKey), ConfigError> {
    let bad = |option: &'static str, problem: String| ConfigError::BadKey {
        backend: backend.to_owned(),
        option,
        problem,
    };
    let (encoding, decoding) = match algorithm.family() {
        Family::Hmac => {
            if public_key.is_some() {
                return Err(bad(
                    "public_key",
                    format!(
                        "{algorithm} verifies with the secret itself; remove public_key, or pick an RS/PS/ES/EdDSA algorithm"
                    ),
                ));
            }
            let min = algorithm.min_secret_len();
            if secret.len() < min {
                return Err(bad(
                    "secret",
                    format!(
                        "{algorithm} needs at least {min} bytes of secret (RFC 7518 §3.2), got {}; generate one with `openssl rand -base64 {min}`",
                        secret.len()
                    ),
                ));
            }
            (
                EncodingKey::from_secret(secret.expose()),
                DecodingKey::from_secret(secret.expose()),
            )
        }
        family => {
            let Some(public_key) = public_key else {
                return Err(bad(
                    "public_key",
                    format!(
                        "{algorithm} needs a public key to verify tokens; add public_key = file(\"public.pem\") or env(\"...\")"
                    ),
                ));
            };
            let kind = kind(algorithm);
            let encoding = match family {
                Family::Rsa => EncodingKey::from_rsa_pem(secret.expose()),
                Family::Ec => EncodingKey::from_ec_pem(secret.expose()),
                _ => EncodingKey::from_ed_pem(secret.expose()),
            }
            .map_err(|_| bad("secret", format!("{algorithm} signs with {kind} private key in PEM form (PKCS#8, or PKCS#1 for RSA); this is not one")))?;
            (
                encoding,
                public(backend, "public_key", algorithm, public_key)?,
            )
        }
    };
    probe(backend, algorithm, &encoding, &decoding)?;
    Ok((encoding, decoding))
}

/// The name of the key family `algorithm` verifies with, for messages.
fn kind(algorithm: Algorithm) -> &'static str {
    match algorithm.family() {
        Family::Hmac => "an HMAC",
        Family::Rsa => "an RSA",
        Family::Ec if algorithm == Algorithm::ES256 => "a P-256 EC",
        Family::Ec => "a P-384 EC",
        _ => "an Ed25519",
    }
}

/// A PEM public key of `algorithm`'s family, from the option named `option`.
pub(crate) fn public(
    backend: &str,
    option: &'static str,
    algorithm: Algorithm,
    pem: &Secret,
) -> Result<DecodingKey, ConfigError> {
    match algorithm.family() {
        Family::Rsa => DecodingKey::from_rsa_pem(pem.expose()),
        Family::Ec => DecodingKey::from_ec_pem(pem.expose()),
        _ => DecodingKey::from_ed_pem(pem.expose()),
    }
    .map_err(|_| ConfigError::BadKey {
        backend: backend.to_owned(),
        option,
        problem: format!(
            "{algorithm} verifies with {} public key in PEM form (`BEGIN PUBLIC KEY`); this is not one",
            kind(algorithm)
        ),
    })
}

/// A key that verifies tokens: the signing key's public half (or the HMAC secret),
/// or a public key rotating in or out.
pub(crate) struct VerifyingKey {
    /// The RFC 7638 SHA-256 thumbprint of the public key, the `kid` of the tokens
    /// it verifies; `None` for an HMAC secret, which has no public form.
    pub(crate) kid: Option<String>,
    pub(crate) decoding: DecodingKey,
    /// The public key as a JWK (RFC 7517) with its `kid`, `alg` and `use`, for the
    /// JWKS document; `None` for an HMAC secret, which is never published.
    pub(crate) jwk: Option<Jwk>,
}

impl VerifyingKey {
    pub(crate) fn new(
        backend: &str,
        algorithm: Algorithm,
        decoding: DecodingKey,
    ) -> Result<Self, ConfigError> {
        if algorithm.family() == Family::Hmac {
            return Ok(Self {
                kid: None,
                decoding,
                jwk: None,
            });
        }
        let unusable = |_| ConfigError::BadKey {
            backend: backend.to_owned(),
            option: "public_key",
            problem: format!(
                "cannot describe this {algorithm} public key as a JWK; generate a new key pair"
            ),
        };
        let mut jwk =
            Jwk::from_decoding_key(&decoding, Some(algorithm.to_jwt())).map_err(unusable)?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256).map_err(unusable)?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(Self {
            kid: Some(kid),
            decoding,
            jwk: Some(jwk),
        })
    }
}

/// Signs and verifies once, so a key of the wrong curve or size, or a public key that
/// is not the private key's, stops startup.
fn probe(
    backend: &str,
    algorithm: Algorithm,
    encoding: &EncodingKey,
    decoding: &DecodingKey,
) -> Result<(), ConfigError> {
    let bad = |option: &'static str, problem: String| ConfigError::BadKey {
        backend: backend.to_owned(),
        option,
        problem,
    };
    const MESSAGE: &[u8] = b"warden key check";
    let signature = crypto::sign(MESSAGE, encoding, algorithm.to_jwt()).map_err(|_| {
        bad("secret", format!("this key cannot sign {algorithm}; check that the key type and curve match the algorithm"))
    })?;
    if algorithm.family() == Family::Rsa && signature.len() * 3 / 4 < MIN_RSA_BYTES {
        return Err(bad(
            "secret",
            "RSA keys must be at least 2048 bits; generate one with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`".into(),
        ));
    }
    match crypto::verify(&signature, MESSAGE, decoding, algorithm.to_jwt()) {
        Ok(true) => Ok(()),
        _ => Err(bad(
            "public_key",
            "does not verify what the secret signs: it is not the public half of this private key"
                .into(),
        )),
    }
}
