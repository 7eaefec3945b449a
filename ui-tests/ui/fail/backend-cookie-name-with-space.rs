use warden::auth_backend;

#[auth_backend(lifetime = 3600, transport = cookie(name = "my cookie"))]
pub struct Auth;

fn main() {}
