use warden::auth_backend;

#[auth_backend(name = "api", strategy = "api_key", transport = cookie)]
pub struct Api;

fn main() {}
