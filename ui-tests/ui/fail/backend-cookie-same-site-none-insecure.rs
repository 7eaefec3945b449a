use warden::auth_backend;

#[auth_backend(lifetime = 3600, transport = cookie(same_site = "none", secure = false))]
pub struct Auth;

fn main() {}
