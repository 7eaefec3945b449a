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
}
