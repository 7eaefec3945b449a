use warden::auth_backend;

#[auth_backend(lifetime = 18446744073709551616)]
pub struct Jwt;

fn main() {}
