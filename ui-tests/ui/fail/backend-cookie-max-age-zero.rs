use warden::auth_backend;

#[auth_backend(lifetime = 3600, transport = cookie(max_age = 0))]
pub struct Auth;

fn main() {}
