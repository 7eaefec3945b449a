//! `warden keygen`: a random HMAC secret, or a PEM key pair warden accepts.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Args;
use rand_core::{OsRng, RngCore};
use rsa::pkcs8::der::zeroize::Zeroizing;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use warden::Algorithm;

use crate::{Failure, say};

/// RSA modulus size for RS* and PS* keys.
const RSA_BITS: usize = 3072;

/// What to generate.
#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// The signature algorithm: HS256, HS384, HS512, RS256, RS384, RS512, PS256,
    /// PS384, PS512, ES256, ES384 or EdDSA
    #[arg(long, value_name = "ALG", default_value = "HS256", value_parser = parse_algorithm)]
    algorithm: Algorithm,
    /// Where to write private.pem and public.pem, created if missing (not for HS*,
    /// whose secret is printed) [default: keys]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// The name closest to `input` (ignoring case, with transpositions as one edit), if
/// it is near enough to be a typo.
fn closest<'a>(input: &str, names: &[&'a str]) -> Option<&'a str> {
    let input = input.to_ascii_lowercase();
    names
        .iter()
        .map(|name| {
            (
                strsim::osa_distance(&input, &name.to_ascii_lowercase()),
                *name,
            )
        })
        .filter(|(distance, name)| *distance <= (name.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// An algorithm name exactly as RFC 7518 spells it, or an error with a hint.
fn parse_algorithm(name: &str) -> Result<Algorithm, String> {
    if let Some(algorithm) = Algorithm::from_name(name) {
        return Ok(algorithm);
    }
    let names: Vec<&str> = Algorithm::ALL.iter().map(|alg| alg.as_str()).collect();
    let hint = if name.eq_ignore_ascii_case("none") {
        "\"none\" would accept unsigned tokens and is never allowed (RFC 8725 §3.1); ".to_owned()
    } else if name.eq_ignore_ascii_case("ed25519") {
        "did you mean \"EdDSA\"? ".to_owned()
    } else if name.eq_ignore_ascii_case("ES512") {
        "ES512 (P-521) is not supported; ".to_owned()
    } else {
        closest(name, &names)
            .map(|suggestion| format!("did you mean \"{suggestion}\"? "))
            .unwrap_or_default()
    };
    Err(format!(
        "unknown algorithm \"{name}\"; {hint}expected one of {} (case-sensitive)",
        names.join(", ")
    ))
}

/// `warden keygen`.
pub(crate) fn run(args: &KeygenArgs) -> Result<(), Failure> {
    let algorithm = args.algorithm;
    if algorithm.is_hmac() {
        if args.out.is_some() {
            return Err(Failure::new(format!(
                "{algorithm} uses one secret, printed on stdout: drop --out, or pick an RS/PS/ES/EdDSA algorithm for a key pair"
            )));
        }
        return say(&hmac_secret(algorithm)?);
    }
    let dir = args.out.clone().unwrap_or_else(|| PathBuf::from("keys"));
    let private_path = dir.join("private.pem");
    let public_path = dir.join("public.pem");
    for path in [&private_path, &public_path] {
        if path.symlink_metadata().is_ok() {
            return Err(Failure::new(format!(
                "{} exists; keygen never overwrites keys: move it away or pick another --out",
                path.display()
            )));
        }
    }
    let pair = key_pair(algorithm)?;
    fs::create_dir_all(&dir)
        .map_err(|error| Failure::new(format!("cannot create {}: {error}", dir.display())))?;
    write_new(&private_path, pair.private.as_bytes(), true)?;
    if let Err(failure) = write_new(&public_path, pair.public.as_bytes(), false) {
        // Half a pair is no use: leave the directory as it was.
        let _ = fs::remove_file(&private_path);
        return Err(failure);
    }
    say(&format!(
        "private key: {} (PKCS#8; keep it secret, out of version control)",
        private_path.display()
    ))?;
    say(&format!("public key:  {}", public_path.display()))?;
    say(&format!(
        "#[auth_backend(lifetime = 3600, algorithm = \"{algorithm}\", secret = file({:?}), public_key = file({:?}))]",
        private_path.to_string_lossy(),
        public_path.to_string_lossy()
    ))
}

/// As many random bytes as the hash's output (RFC 7518 §3.2), in URL-safe base64
/// without padding: shell-safe, for `export WARDEN_SECRET=...`.
fn hmac_secret(algorithm: Algorithm) -> Result<String, Failure> {
    let mut bytes = Zeroizing::new(vec![0u8; algorithm.min_secret_len()]);
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|error| Failure::new(format!("the system's random generator failed: {error}")))?;
    Ok(URL_SAFE_NO_PAD.encode(&*bytes))
}

/// A PEM key pair: PKCS#8 private key, SPKI public key.
struct KeyPair {
    private: Zeroizing<String>,
    public: String,
}

fn key_pair(algorithm: Algorithm) -> Result<KeyPair, Failure> {
    let failed = |error: &dyn std::fmt::Display| {
        Failure::new(format!("cannot generate the {algorithm} key pair: {error}"))
    };
    let (private, public) = match algorithm {
        Algorithm::ES256 => {
            let key = p256::SecretKey::random(&mut OsRng);
            (
                key.to_pkcs8_pem(LineEnding::LF),
                key.public_key().to_public_key_pem(LineEnding::LF),
            )
        }
        Algorithm::ES384 => {
            let key = p384::SecretKey::random(&mut OsRng);
            (
                key.to_pkcs8_pem(LineEnding::LF),
                key.public_key().to_public_key_pem(LineEnding::LF),
            )
        }
        Algorithm::EdDSA => {
            let key = ed25519_dalek::SigningKey::generate(&mut OsRng);
            (
                key.to_pkcs8_pem(LineEnding::LF),
                key.verifying_key().to_public_key_pem(LineEnding::LF),
            )
        }
        _ => {
            let key =
                rsa::RsaPrivateKey::new(&mut OsRng, RSA_BITS).map_err(|error| failed(&error))?;
            (
                key.to_pkcs8_pem(LineEnding::LF),
                key.to_public_key().to_public_key_pem(LineEnding::LF),
            )
        }
    };
    Ok(KeyPair {
        private: private.map_err(|error| failed(&error))?,
        public: public.map_err(|error| failed(&error))?,
    })
}

/// Writes a file that must not exist yet; a private one is readable by its owner
/// only.
fn write_new(path: &Path, contents: &[u8], private: bool) -> Result<(), Failure> {
    let failed =
        |error: std::io::Error| Failure::new(format!("cannot write {}: {error}", path.display()));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(failed)?;
    file.write_all(contents).map_err(failed)?;
    file.sync_all().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_the_closest_name() {
        let names = ["HS256", "HS384", "RS256", "EdDSA"];
        assert_eq!(closest("hs256", &names), Some("HS256"));
        assert_eq!(closest("HS265", &names), Some("HS256"));
        assert_eq!(closest("eddsa", &names), Some("EdDSA"));
        assert_eq!(closest("blowfish", &names), None);
    }

    #[test]
    fn algorithm_names_are_exact_with_hints() {
        assert_eq!(parse_algorithm("EdDSA"), Ok(Algorithm::EdDSA));
        let error = parse_algorithm("hs256").unwrap_err();
        assert!(error.contains("did you mean \"HS256\"?"), "{error}");
        assert!(error.contains("HS256, HS384"), "{error}");
        assert!(
            parse_algorithm("Ed25519")
                .unwrap_err()
                .contains("\"EdDSA\"")
        );
        assert!(
            parse_algorithm("none")
                .unwrap_err()
                .contains("never allowed")
        );
    }

    #[test]
    fn hmac_secrets_have_the_hash_size() {
        for (algorithm, bytes) in [
            (Algorithm::HS256, 32),
            (Algorithm::HS384, 48),
            (Algorithm::HS512, 64),
        ] {
            let secret = hmac_secret(algorithm).unwrap();
            assert_eq!(URL_SAFE_NO_PAD.decode(&secret).unwrap().len(), bytes);
        }
    }
}
