use warden::auth_backend;

#[auth_backend(lifetime = forever, refresh = 86400)]
pub struct Auth;

fn main() {}
