use warden::oauth_client;

#[oauth_client(name = "oidc", issuer = env("OIDC_ISSUER"))]
pub struct Corporate;

fn main() {}
