use warden::auth_backend;

#[auth_backend(lifetime = 900, refresh = 1209600, max_session_age = 604800)]
pub struct Auth;

fn main() {}
