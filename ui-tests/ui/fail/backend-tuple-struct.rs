use warden::auth_backend;

#[auth_backend(lifetime = 3600)]
pub struct Jwt(u8);

fn main() {}
