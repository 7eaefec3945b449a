use warden::auth_backend;

#[auth_backend(name = "db", lifetime = 3600, strategy = "database", algorithm = "HS512", secret = env("DB_SECRET"))]
pub struct Auth;

fn main() {}
