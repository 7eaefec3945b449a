use warden::auth_backend;

#[auth_backend(
    lifetime = 3600,
    algorithm = "HS512",
    secret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"
)]
pub struct Jwt;

fn main() {}
