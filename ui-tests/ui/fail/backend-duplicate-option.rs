use warden::auth_backend;

#[auth_backend(lifetime = 3600, lifetime = 60)]
pub struct Jwt;

fn main() {}
