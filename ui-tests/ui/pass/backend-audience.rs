use warden::auth_backend;

#[auth_backend(lifetime = 3600, audience = ["fastapi-users:auth", "my-api"])]
pub struct Many;

#[auth_backend(name = "one", lifetime = 3600, audience = "my-api")]
pub struct One;

fn main() {
    assert_eq!(
        <Many as warden::AuthBackend>::CONFIG.audience,
        ["fastapi-users:auth", "my-api"]
    );
    assert_eq!(<One as warden::AuthBackend>::CONFIG.audience, ["my-api"]);
}
