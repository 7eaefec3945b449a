use warden::auth_backend;

#[auth_backend(lifetme = 3600)]
pub struct Jwt;

fn main() {}
