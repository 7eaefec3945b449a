use warden::auth_backend;

#[auth_backend(name = "db", lifetime = 3600, strategy = "databse")]
pub struct Auth;

fn main() {}
