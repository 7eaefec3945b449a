use warden::auth_backend;

#[auth_backend(lifetime = 3600, transport = header)]
pub struct Jwt;

fn main() {}
