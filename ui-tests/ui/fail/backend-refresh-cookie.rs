use warden::auth_backend;

#[auth_backend(lifetime = 900, refresh = 86400, transport = cookie)]
pub struct Auth;

fn main() {}
