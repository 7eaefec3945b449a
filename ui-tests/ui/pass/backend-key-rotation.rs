// Key rotation: more public keys verify (and are published) besides public_key.
use warden::auth_backend;

#[auth_backend(name = "rsa", lifetime = 900, algorithm = "RS256",
               secret = file("keys/next-private.pem"),
               public_key = file("keys/next-public.pem"),
               verify_keys = [file("keys/previous-public.pem"), env("STANDBY_PUBLIC_KEY")])]
pub struct Rotating;

#[auth_backend(name = "es", lifetime = 900, algorithm = "ES256",
               secret = env("ES_PRIVATE_KEY"), public_key = env("ES_PUBLIC_KEY"),
               verify_keys = env("ES_PREVIOUS_PUBLIC_KEY"))]
pub struct One;

fn main() {
    use warden::AuthBackend;
    assert_eq!(Rotating::CONFIG.verify_keys.len(), 2);
    assert_eq!(One::CONFIG.verify_keys.len(), 1);
}
