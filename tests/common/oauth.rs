//! A browser's steps at the start and the end of a provider login ("log in with
//! ..."), as FastAPI Users' OAuth router has them: `GET /auth/{route}/authorize`
//! answers the provider's authorization URL and sets the CSRF cookie
//! (`fastapiusersoauthcsrf`), which the callback wants back.

use reqwest::Method;

use super::{Http, Reply};

/// The CSRF cookie's name (FastAPI Users' `fastapiusersoauthcsrf`).
pub const CSRF_COOKIE: &str = "fastapiusersoauthcsrf";

/// `GET /auth/{route}/authorize` (asserts the 200): the provider's authorization URL
/// and the CSRF cookie's value.
pub async fn authorize(http: &Http, route: &str) -> (String, String) {
    let reply = http
        .send(Method::GET, &format!("/auth/{route}/authorize"), None, None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let url = reply.json()["authorization_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let csrf = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| cookie.strip_prefix(&format!("{CSRF_COOKIE}=")))
        .and_then(|cookie| cookie.split(';').next())
        .expect("the authorize step sets the CSRF cookie")
        .to_owned();
    (url, csrf)
}

/// `GET /auth/{route}/callback?{query}` with the CSRF cookie: its reply.
pub async fn callback(http: &Http, route: &str, query: &str, csrf: &str) -> Reply {
    Reply::read(
        http.client
            .get(format!("{}/auth/{route}/callback?{query}", http.base))
            .header("cookie", format!("{CSRF_COOKIE}={csrf}"))
            .send()
            .await
            .unwrap(),
    )
    .await
}
