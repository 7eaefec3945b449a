use warden::auth_backend;

#[auth_backend(lifetime = 3600, audience = ["fastapi-users:auth", 42])]
pub struct Jwt;

fn main() {}
