use warden::auth_backend;

#[auth_backend(name = "api", strategy = "api_key", lifetime = forever)]
pub struct Api;

fn main() {}
