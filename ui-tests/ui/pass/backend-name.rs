use warden::auth_backend;

#[auth_backend(name = "api-v2_jwt", lifetime = 3600)]
pub struct Jwt;

fn main() {
    assert_eq!(<Jwt as warden::AuthBackend>::CONFIG.name, "api-v2_jwt");
}
