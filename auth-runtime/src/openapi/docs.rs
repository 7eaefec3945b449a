//! `GET /openapi.json` and the Swagger UI at `GET /docs`, served from embedded bytes.
//! Swagger UI (1.9 MB of assets in the binary) comes with the cargo feature `docs`;
//! the document is always served, as it is built from the very operations the
//! router mounts.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{NestedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::Value;

use super::ApiSpec;
use crate::error::ApiError;

/// Where the OpenAPI document is served.
pub(crate) const DOCUMENT_PATH: &str = "/openapi.json";
/// Where Swagger UI is served (its assets below it).
pub(crate) const DOCS_PATH: &str = "/docs";

#[cfg(feature = "docs")]
/// The vendored `swagger-ui-dist` version (`assets/swagger-ui/README.md`); it also
/// busts browser caches of the assets when it changes.
const SWAGGER_UI_VERSION: &str = "5.35.0";
#[cfg(feature = "docs")]
const SWAGGER_UI_BUNDLE: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
#[cfg(feature = "docs")]
const SWAGGER_UI_CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");

/// Starts Swagger UI on `openapi.json` beside the page. A file rather than an inline
/// script, so the page's Content-Security-Policy can forbid inline scripts. Every
/// URL of the page is relative, so the docs work wherever the routes are mounted
/// (`Router::nest("/api", warden.routes())` serves them at `/api/docs`).
#[cfg(feature = "docs")]
const INITIALIZER: &str = r##"window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  persistAuthorization: false,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  plugins: [SwaggerUIBundle.plugins.DownloadUrl]
});
"##;

/// Only this origin: no external script, style, image or connection.
#[cfg(feature = "docs")]
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

#[cfg(feature = "docs")]
const JS: &str = "text/javascript; charset=utf-8";
#[cfg(feature = "docs")]
const ASSET_CACHE: &str = "public, max-age=86400";

#[cfg(feature = "docs")]
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(feature = "docs")]
fn page(title: &str) -> String {
    let title = html_escape(title);
    let v = SWAGGER_UI_VERSION;
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Swagger UI</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="docs/swagger-ui.css?v={v}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js?v={v}"></script>
<script src="docs/swagger-initializer.js"></script>
</body>
</html>
"#
    )
}

/// The document with `prefix` in front of every path.
fn prefixed(document: &Value, prefix: &str) -> Value {
    let mut document = document.clone();
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        *paths = std::mem::take(paths)
            .into_iter()
            .map(|(path, item)| (format!("{prefix}{path}"), item))
            .collect();
    }
    document
}

/// A `GET` route answering fixed bytes with fixed headers.
#[cfg(feature = "docs")]
fn fixed<S>(body: Bytes, headers: Vec<(HeaderName, HeaderValue)>) -> axum::routing::MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    get(move || {
        let body = body.clone();
        let headers = headers.clone();
        async move {
            let mut response = body.into_response();
            response.headers_mut().extend(headers);
            response
        }
    })
}

fn headers(content_type: &'static str, cache: &'static str) -> Vec<(HeaderName, HeaderValue)> {
    vec![
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ]
}

/// `GET /openapi.json` (the document of `spec`, serialised once, here), `GET /docs`
/// (Swagger UI, cargo feature `docs`) and its assets under `/docs/`, all from bytes
/// embedded in the binary. Merge it into the application's router; it needs no state.
pub fn router<S>(spec: &ApiSpec) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router_with(spec, None)
}

/// [`router`], with the application's own operations (`app`) in the document: its
/// `#[protected]` handlers get the warden's security schemes and guard answers.
pub fn router_with<S>(spec: &ApiSpec, app: Option<&utoipa::openapi::OpenApi>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router_of(spec, super::operations(spec), app)
}

/// The docs of exactly these operations (the warden's route list), plus `app`'s.
pub(crate) fn router_of<S>(
    spec: &ApiSpec,
    ops: Vec<super::Op>,
    app: Option<&utoipa::openapi::OpenApi>,
) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let json = super::app::merged(spec, ops, app);
    let plain = Bytes::from(json.to_string());
    let json = std::sync::Arc::new(json);
    let router = Router::new().route(
        DOCUMENT_PATH,
        get(move |request: Request| {
            let (json, plain) = (std::sync::Arc::clone(&json), plain.clone());
            async move {
                // Under `Router::nest`, every path carries the mount prefix.
                let prefix = request
                    .extensions()
                    .get::<NestedPath>()
                    .map(|nested| nested.as_str().trim_end_matches('/').to_owned())
                    .filter(|prefix| !prefix.is_empty());
                let body = match prefix {
                    None => plain,
                    Some(prefix) => Bytes::from(prefixed(&json, &prefix).to_string()),
                };
                let mut response = body.into_response();
                response
                    .headers_mut()
                    .extend(headers("application/json", "no-cache"));
                response
            }
        }),
    );
    #[cfg(feature = "docs")]
    let router = swagger_ui(router, &spec.title);
    router.method_not_allowed_fallback(|| async {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            Value::from("Method Not Allowed"),
        )
    })
}

/// `router` with Swagger UI at `GET /docs` and its assets under `/docs/`.
#[cfg(feature = "docs")]
fn swagger_ui<S>(router: Router<S>, title: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let mut page_headers = headers("text/html; charset=utf-8", "no-cache");
    page_headers.push((
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    ));
    page_headers.push((
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ));
    router
        .route(DOCS_PATH, fixed(page(title).into(), page_headers))
        .route(
            "/docs/swagger-ui-bundle.js",
            fixed(
                Bytes::from_static(SWAGGER_UI_BUNDLE),
                headers(JS, ASSET_CACHE),
            ),
        )
        .route(
            "/docs/swagger-ui.css",
            fixed(
                Bytes::from_static(SWAGGER_UI_CSS),
                headers("text/css; charset=utf-8", ASSET_CACHE),
            ),
        )
        .route(
            "/docs/swagger-initializer.js",
            fixed(
                Bytes::from_static(INITIALIZER.as_bytes()),
                headers(JS, "no-cache"),
            ),
        )
}

#[cfg(all(test, feature = "docs"))]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_the_title_and_loads_only_local_assets() {
        let html = page("<b>\"warden\" & co</b>");
        assert!(html.contains(
            "<title>&lt;b&gt;&quot;warden&quot; &amp; co&lt;/b&gt; - Swagger UI</title>"
        ));
        let v = SWAGGER_UI_VERSION;
        assert!(html.contains(&format!(r#"src="docs/swagger-ui-bundle.js?v={v}""#)));
        assert!(html.contains(&format!(r#"href="docs/swagger-ui.css?v={v}""#)));
        assert!(
            !html.contains("http"),
            "no external URL in the page: {html}"
        );
        assert!(!html.contains("<script>"), "no inline script: {html}");
        assert!(INITIALIZER.contains("persistAuthorization: false"));
        assert!(INITIALIZER.contains(r#"url: "openapi.json""#));
    }

    #[test]
    fn the_assets_are_swagger_ui() {
        assert!(SWAGGER_UI_BUNDLE.starts_with(b"/*! For license information"));
        assert!(SWAGGER_UI_BUNDLE.len() > 1_000_000);
        assert!(SWAGGER_UI_CSS.starts_with(b".swagger-ui"));
    }
}
