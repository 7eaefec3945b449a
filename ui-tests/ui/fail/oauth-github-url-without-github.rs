use warden::oauth_client;

#[oauth_client(name = "oidc", issuer = env("OIDC_ISSUER"), github_url = "https://github.example.com", client_id = env("OIDC_CLIENT_ID"), client_secret = env("OIDC_CLIENT_SECRET"))]
pub struct Corporate;

fn main() {}
