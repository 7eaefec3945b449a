use warden::auth_backend;

#[auth_backend(name = "api", strategy = "api_key", secret = env("WARDEN_SECRET"))]
pub struct Api;

fn main() {}
