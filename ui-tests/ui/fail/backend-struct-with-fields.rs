use warden::auth_backend;

#[auth_backend(lifetime = 3600)]
pub struct Jwt {
    secret: String,
}

fn main() {}
