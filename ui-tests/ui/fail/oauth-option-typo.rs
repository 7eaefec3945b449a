use warden::oauth_client;

#[oauth_client(name = "oidc", isuer = env("OIDC_ISSUER"), client_id = env("OIDC_CLIENT_ID"), client_secret = env("OIDC_CLIENT_SECRET"))]
pub struct Corporate;

fn main() {}
