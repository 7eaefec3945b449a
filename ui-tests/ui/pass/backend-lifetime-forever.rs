use warden::auth_backend;

#[auth_backend(lifetime = forever)]
pub struct Jwt;

fn main() {
    assert_eq!(
        <Jwt as warden::AuthBackend>::CONFIG.lifetime,
        warden::Lifetime::Forever
    );
}
