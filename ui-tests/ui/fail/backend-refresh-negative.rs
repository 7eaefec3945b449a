use warden::auth_backend;

#[auth_backend(lifetime = 900, refresh = -1)]
pub struct Auth;

fn main() {}
