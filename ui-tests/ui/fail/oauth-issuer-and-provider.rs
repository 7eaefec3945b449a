use warden::oauth_client;

#[oauth_client(name = "gh", provider = "github", issuer = env("OIDC_ISSUER"), client_id = env("GITHUB_CLIENT_ID"), client_secret = env("GITHUB_CLIENT_SECRET"))]
pub struct Corporate;

fn main() {}
