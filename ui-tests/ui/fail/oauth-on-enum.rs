use warden::oauth_client;

#[oauth_client(name = "oidc", issuer = env("OIDC_ISSUER"), client_id = env("ID"), client_secret = env("SECRET"))]
pub enum Corporate {}

fn main() {}
