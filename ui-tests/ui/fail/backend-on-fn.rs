use warden::auth_backend;

#[auth_backend(lifetime = 3600)]
pub fn jwt() {}

fn main() {}
