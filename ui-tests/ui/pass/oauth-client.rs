use warden::{KeySource, OAuthClient, oauth_client};

#[oauth_client(
    name = "oidc",
    issuer = env("OIDC_ISSUER"),
    client_id = env("OIDC_CLIENT_ID"),
    client_secret = file("secrets/oidc"),
    scopes = ["openid", "email", "profile"]
)]
pub struct Corporate;

#[oauth_client(
    name = "google",
    issuer = "https://accounts.google.com",
    client_id = "1234.apps.googleusercontent.com",
    client_secret = env("GOOGLE_CLIENT_SECRET")
)]
pub struct Google;

fn main() {
    assert_eq!(Corporate::CONFIG.name, "oidc");
    assert_eq!(Corporate::CONFIG.client_secret, KeySource::File("secrets/oidc"));
    assert_eq!(Corporate::CONFIG.scopes, ["openid", "email", "profile"]);
    assert_eq!(Google::CONFIG.scopes, ["openid", "email"]);
    presets();
}

#[oauth_client(
    name = "github",
    provider = "github",
    client_id = env("GITHUB_CLIENT_ID"),
    client_secret = env("GITHUB_CLIENT_SECRET")
)]
pub struct GitHub;

#[oauth_client(
    name = "ghes",
    provider = "github",
    github_url = "https://github.example.com",
    github_api_url = "https://github.example.com/api/v3",
    client_id = env("GHES_CLIENT_ID"),
    client_secret = env("GHES_CLIENT_SECRET"),
    scopes = ["read:user", "user:email", "read:org"]
)]
pub struct Enterprise;

fn presets() {
    assert_eq!(GitHub::CONFIG.scopes, ["read:user", "user:email"]);
    assert!(matches!(
        Enterprise::CONFIG.provider,
        warden::runtime::oauth::OAuthProvider::GitHub { .. }
    ));
}
