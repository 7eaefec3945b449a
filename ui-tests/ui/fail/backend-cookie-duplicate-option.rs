use warden::auth_backend;

#[auth_backend(lifetime = 3600, transport = cookie(name = "auth", max_age = 60, name = "session"))]
pub struct Auth;

fn main() {}
