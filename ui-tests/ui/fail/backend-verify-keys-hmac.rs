#[warden::auth_backend(lifetime = 3600, verify_keys = [file("keys/old.pem")])]
pub struct Jwt;

fn main() {}
