use warden::auth_backend;

#[auth_backend(lifetime = forever, max_session_age = 604800)]
pub struct Auth;

fn main() {}
