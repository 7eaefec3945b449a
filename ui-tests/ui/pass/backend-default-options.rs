// Only `lifetime` is required: HS256, name "jwt", secret from WARDEN_SECRET.
use warden::auth_backend;

#[auth_backend(lifetime = 3600)]
pub struct Jwt;

fn main() {
    let _ = Jwt::strategy();
    let _ = <Jwt as warden::AuthBackend>::CONFIG;
}
