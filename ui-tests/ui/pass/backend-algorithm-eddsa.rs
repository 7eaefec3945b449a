use warden::auth_backend;

#[auth_backend(
    lifetime = 900,
    algorithm = "EdDSA",
    secret = file("keys/ed25519-private.pem"),
    public_key = env("ED25519_PUBLIC_KEY")
)]
pub struct Ed25519;

fn main() {
    let _ = Ed25519::strategy();
}
