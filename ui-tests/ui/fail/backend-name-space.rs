use warden::auth_backend;

#[auth_backend(name = "my jwt", lifetime = 3600)]
pub struct Jwt;

fn main() {}
