use warden::auth_backend;

#[auth_backend(
    lifetime = 900,
    algorithm = "ES256",
    secret = file("keys/p256-private.pem"),
    public_key = file("keys/p256-public.pem")
)]
pub struct Es256;

#[auth_backend(
    lifetime = 900,
    algorithm = "ES384",
    secret = env("P384_PRIVATE_KEY"),
    public_key = env("P384_PUBLIC_KEY")
)]
pub struct Es384;

fn main() {
    let _ = (Es256::strategy(), Es384::strategy());
}
