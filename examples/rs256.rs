//! An RS256 backend: the private key signs, the public key verifies.
//!
//! ```text
//! cargo run --example rs256
//! ```
//!
//! On first run it makes a 2048-bit key pair in `.warden/` (in production, generate
//! it with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048` and keep the
//! private key out of the repository). Serves on 127.0.0.1:8001 (`PORT` overrides),
//! with the public key at `GET /.well-known/jwks.json` for other verifiers; the README
//! section "Key rotation and JWKS" shows how to rotate it with `verify_keys`.

use std::path::Path;

use axum::routing::get;
use axum::{Json, Router};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use warden::{SqliteStore, User, Warden, auth_backend, protected};

const PRIVATE: &str = ".warden/rs256-private.pem";
const PUBLIC: &str = ".warden/rs256-public.pem";

/// RS256 access tokens valid 15 minutes.
#[auth_backend(name = "rsa", lifetime = 900, algorithm = "RS256",
               secret = file(".warden/rs256-private.pem"),
               public_key = file(".warden/rs256-public.pem"))]
pub struct Rsa;

#[protected(active)]
async fn me(user: User) -> Json<User> {
    Json(user)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    if !Path::new(PRIVATE).exists() {
        make_key_pair()?;
        tracing::info!("generated an RSA key pair in {PRIVATE} and {PUBLIC}");
    }
    let warden: Warden = Warden::builder()
        .store(SqliteStore::open("sqlite://warden-rs256.db").await?)
        .backend::<Rsa>()?
        .build()?;
    for (method, path, what) in warden.route_table() {
        tracing::info!("route {method:<6} {path:<24} {what}");
    }
    let app = Router::new()
        .route("/me", get(me))
        .merge(warden.routes())
        .fallback(warden::not_found)
        .with_state(warden);
    let port = std::env::var("PORT").unwrap_or_else(|_| "8001".into());
    warden::serve(app, format!("127.0.0.1:{port}")).await?;
    Ok(())
}

fn make_key_pair() -> Result<(), Box<dyn std::error::Error>> {
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)?;
    std::fs::create_dir_all(".warden")?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(
        &mut options.open(PRIVATE)?,
        private.to_pkcs8_pem(LineEnding::LF)?.as_bytes(),
    )?;
    std::fs::write(
        PUBLIC,
        private.to_public_key().to_public_key_pem(LineEnding::LF)?,
    )?;
    Ok(())
}
