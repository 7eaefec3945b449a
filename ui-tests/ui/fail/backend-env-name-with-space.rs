use warden::auth_backend;

#[auth_backend(lifetime = 3600, secret = env("WARDEN SECRET"))]
pub struct Jwt;

fn main() {}
