#[warden::auth_backend(lifetime = 3600, algorithm = "RS256",
                       secret = file("private.pem"), public_key = file("public.pem"),
                       verify_keys = [])]
pub struct Rsa;

fn main() {}
