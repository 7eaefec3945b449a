use warden::auth_backend;

#[auth_backend(lifetime = 1.5)]
pub struct Jwt;

fn main() {}
