// Each HMAC algorithm, with the secret from the environment or a file.
use warden::auth_backend;

#[auth_backend(lifetime = 3600, algorithm = "HS256", secret = env("HS256_SECRET"))]
pub struct Hs256;

#[auth_backend(lifetime = 3600, algorithm = "HS384", secret = file("keys/hs384.secret"))]
pub struct Hs384;

#[auth_backend(lifetime = 3600, algorithm = "HS512", secret = env("HS512_SECRET"))]
pub struct Hs512;

fn main() {
    let _ = (Hs256::strategy(), Hs384::strategy(), Hs512::strategy());
}
