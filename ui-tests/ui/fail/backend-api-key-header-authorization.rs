use warden::auth_backend;

#[auth_backend(name = "api", strategy = "api_key", transport = header("Authorization"))]
pub struct Api;

fn main() {}
