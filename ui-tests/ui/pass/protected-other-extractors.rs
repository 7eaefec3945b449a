// The user between other extractors; the body extractor stays last.
use axum::Json;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::Value;
use warden::{User, protected};

#[protected(active)]
async fn update(
    Path(id): Path<u32>,
    headers: HeaderMap,
    user: User,
    Json(body): Json<Value>,
) -> String {
    format!("{id} {} {} {body}", headers.len(), user.email)
}

fn main() {
    let _: axum::Router<warden::Warden> = axum::Router::new().route("/items/{id}", post(update));
}
