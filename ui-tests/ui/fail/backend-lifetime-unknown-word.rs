use warden::auth_backend;

#[auth_backend(lifetime = never)]
pub struct Jwt;

fn main() {}
