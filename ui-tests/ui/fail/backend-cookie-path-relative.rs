use warden::auth_backend;

#[auth_backend(lifetime = 3600, transport = cookie(path = "api/v1"))]
pub struct Auth;

fn main() {}
