use warden::oauth_client;

#[oauth_client(name = "oidc", issuer = env("OIDC_ISSUER"), client_id = env("OIDC_CLIENT_ID"), client_secret = env("OIDC_CLIENT_SECRET"), scopes = ["email", "profile"])]
pub struct Corporate;

fn main() {}
