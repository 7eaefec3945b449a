use warden::auth_backend;

#[auth_backend(lifetime = 3600, secret = envv("WARDEN_SECRET"))]
pub struct Jwt;

fn main() {}
