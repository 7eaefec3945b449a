use warden::auth_backend;

#[auth_backend(lifetime = 900, algorithm = "RS256", secret = file("keys/private.pem"))]
pub struct Rsa;

fn main() {}
