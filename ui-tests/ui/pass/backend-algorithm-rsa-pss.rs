use warden::auth_backend;

#[auth_backend(
    lifetime = 900,
    algorithm = "PS256",
    secret = file("keys/rsa-private.pem"),
    public_key = file("keys/rsa-public.pem")
)]
pub struct Ps256;

#[auth_backend(
    lifetime = 900,
    algorithm = "PS384",
    secret = env("RSA_PRIVATE_KEY"),
    public_key = env("RSA_PUBLIC_KEY")
)]
pub struct Ps384;

#[auth_backend(
    lifetime = 900,
    algorithm = "PS512",
    secret = file("keys/rsa-private.pem"),
    public_key = env("RSA_PUBLIC_KEY")
)]
pub struct Ps512;

fn main() {
    let _ = (Ps256::strategy(), Ps384::strategy(), Ps512::strategy());
}
