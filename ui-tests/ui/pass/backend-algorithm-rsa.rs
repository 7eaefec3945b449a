// RSASSA-PKCS1-v1_5: the keys come from files (need not exist at compile time) or
// the environment.
use warden::auth_backend;

#[auth_backend(
    lifetime = 900,
    algorithm = "RS256",
    secret = file("keys/rsa-private.pem"),
    public_key = file("keys/rsa-public.pem")
)]
pub struct Rs256;

#[auth_backend(
    lifetime = 900,
    algorithm = "RS384",
    secret = env("RSA_PRIVATE_KEY"),
    public_key = env("RSA_PUBLIC_KEY")
)]
pub struct Rs384;

#[auth_backend(
    lifetime = 900,
    algorithm = "RS512",
    secret = env("RSA_PRIVATE_KEY"),
    public_key = file("keys/rsa-public.pem")
)]
pub struct Rs512;

fn main() {
    let _ = (Rs256::strategy(), Rs384::strategy(), Rs512::strategy());
}
