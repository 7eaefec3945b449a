use warden::auth_backend;

#[auth_backend(lifetime = 0)]
pub struct Jwt;

fn main() {}
