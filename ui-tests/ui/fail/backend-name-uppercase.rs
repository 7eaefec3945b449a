use warden::auth_backend;

#[auth_backend(name = "Jwt", lifetime = 3600)]
pub struct Jwt;

fn main() {}
