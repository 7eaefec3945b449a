use warden::auth_backend;

#[auth_backend(lifetime = 3600, algorithm = "HS265")]
pub struct Jwt;

fn main() {}
