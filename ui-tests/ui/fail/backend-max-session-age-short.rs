use warden::auth_backend;

#[auth_backend(lifetime = 3600, max_session_age = 600)]
pub struct Auth;

fn main() {}
