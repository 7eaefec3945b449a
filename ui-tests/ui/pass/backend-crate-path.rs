// `crate = "..."` names warden for re-exporters; here the facade itself and a
// re-export of it.
use warden::auth_backend;

mod reexport {
    pub use ::warden as auth;
}

#[auth_backend(lifetime = 3600, crate = "::warden")]
pub struct Jwt;

#[auth_backend(name = "other", lifetime = 3600, crate = "crate::reexport::auth")]
pub struct Other;

fn main() {
    let _ = (Jwt::strategy(), Other::strategy());
}
