use warden::auth_backend;

#[auth_backend(name = "jwt")]
pub struct Jwt;

fn main() {}
