use warden::auth_backend;

#[auth_backend(lifetime = 3600, crate = "not a path")]
pub struct Jwt;

fn main() {}
