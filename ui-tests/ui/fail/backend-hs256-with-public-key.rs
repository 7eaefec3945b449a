use warden::auth_backend;

#[auth_backend(lifetime = 3600, public_key = file("keys/public.pem"))]
pub struct Jwt;

fn main() {}
