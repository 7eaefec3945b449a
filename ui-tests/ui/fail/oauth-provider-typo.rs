use warden::oauth_client;

#[oauth_client(name = "gh", provider = "githib", client_id = env("GITHUB_CLIENT_ID"), client_secret = env("GITHUB_CLIENT_SECRET"))]
pub struct Corporate;

fn main() {}
