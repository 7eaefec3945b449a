//! The baseline of `benches/speed.sh`: a bare axum handler answering the JSON that
//! the quickstart's `GET /users/me` answers, with no authentication at all. The
//! script measures both in one run and reports the guarded route's share of this.
//!
//! ```text
//! PORT=8001 cargo run --release --example bare_axum
//! ```

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

async fn me() -> Json<Value> {
    Json(json!({
        "id": "5b0a07a2-5d3e-4fb0-9b2b-6a6f2e0c6d1e",
        "email": "speed@example.com",
        "is_active": true,
        "is_superuser": false,
        "is_verified": false
    }))
}

#[tokio::main]
async fn main() -> Result<(), warden::Error> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "8001".to_owned());
    let app = Router::new().route("/users/me", get(me));
    warden::serve(app, format!("127.0.0.1:{port}")).await
}
