use warden::auth_backend;

#[auth_backend(lifetime = 3600, transport = bearer)]
pub struct Jwt;

fn main() {
    assert_eq!(
        <Jwt as warden::AuthBackend>::CONFIG.transport,
        warden::TransportConfig::Bearer
    );
}
