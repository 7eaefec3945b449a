use warden::auth_backend;

#[auth_backend(lifetime = 3600, transport = cookie(max_agee = 600))]
pub struct Auth;

fn main() {}
