// Every option at once.
use warden::auth_backend;

#[auth_backend(
    name = "rsa",
    lifetime = 900,
    algorithm = "RS256",
    secret = file("keys/rsa-private.pem"),
    public_key = file("keys/rsa-public.pem"),
    audience = ["fastapi-users:auth"],
    transport = bearer,
    crate = "::warden"
)]
pub struct Rsa;

fn main() {
    let _ = Rsa::strategy();
}
