use warden::auth_backend;

#[auth_backend(lifetime = 3600)]
pub enum Jwt {
    Access,
}

fn main() {}
