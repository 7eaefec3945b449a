// A literal HS256 secret of exactly 32 bytes, the least RFC 7518 §3.2 allows.
use warden::auth_backend;

#[auth_backend(lifetime = 3600, secret = "0123456789abcdef0123456789abcdef")]
pub struct Jwt;

fn main() {
    let _ = Jwt::strategy();
}
