use warden::auth_backend;

#[auth_backend(lifetime = 3600, redis_url = env("WARDEN_REDIS_URL"))]
pub struct Auth;

fn main() {}
