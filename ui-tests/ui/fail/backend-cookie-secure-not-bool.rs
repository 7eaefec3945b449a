use warden::auth_backend;

#[auth_backend(lifetime = 3600, transport = cookie(secure = "true"))]
pub struct Auth;

fn main() {}
