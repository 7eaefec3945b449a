// The cookie transport: bare (FastAPI Users' defaults) and with every option.
use warden::{AuthBackend, CookieSettings, SameSite, TransportConfig, auth_backend};

#[auth_backend(name = "cookie", lifetime = 3600, transport = cookie)]
pub struct Cookie;

#[auth_backend(
    name = "session",
    lifetime = 600,
    transport = cookie(
        name = "session",
        max_age = 600,
        path = "/",
        domain = "example.com",
        secure = true,
        http_only = true,
        same_site = "strict"
    )
)]
pub struct Session;

#[auth_backend(
    name = "cross",
    lifetime = 3600,
    transport = cookie(name = "__Host-auth", same_site = "none", secure = true, http_only = false)
)]
pub struct Cross;

#[auth_backend(
    name = "local",
    lifetime = 3600,
    transport = cookie(path = "/api", secure = false, same_site = "lax")
)]
pub struct Local;

fn main() {
    assert_eq!(
        Cookie::CONFIG.transport,
        TransportConfig::Cookie(CookieSettings::DEFAULT)
    );
    assert_eq!(
        Session::CONFIG.transport,
        TransportConfig::Cookie(CookieSettings {
            name: "session",
            max_age: Some(600),
            path: "/",
            domain: Some("example.com"),
            secure: true,
            http_only: true,
            same_site: SameSite::Strict,
        })
    );
    assert_eq!(
        Cross::CONFIG.transport,
        TransportConfig::Cookie(CookieSettings {
            name: "__Host-auth",
            http_only: false,
            same_site: SameSite::None,
            ..CookieSettings::DEFAULT
        })
    );
    assert_eq!(
        Local::CONFIG.transport,
        TransportConfig::Cookie(CookieSettings {
            path: "/api",
            secure: false,
            ..CookieSettings::DEFAULT
        })
    );
    let _ = (
        Cookie::strategy(),
        Session::strategy(),
        Cross::strategy(),
        Local::strategy(),
    );
}
