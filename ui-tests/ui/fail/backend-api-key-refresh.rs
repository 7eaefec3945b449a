use warden::auth_backend;

#[auth_backend(name = "api", strategy = "api_key", refresh = 86400, max_session_age = 604800)]
pub struct Api;

fn main() {}
