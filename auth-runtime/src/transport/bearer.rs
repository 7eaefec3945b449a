//! `Authorization: Bearer`, FastAPI Users' `BearerTransport`.

use axum::Json;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Transport, TransportDoc, bearer_token};
use crate::error::ApiError;

/// The token travels as `Authorization: Bearer <token>`; login answers
/// `{"access_token": ..., "token_type": "bearer"}`, logout 204.
#[derive(Debug, Clone, Copy, Default)]
pub struct BearerTransport;

impl Transport for BearerTransport {
    fn token<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        bearer_token(headers)
    }

    fn login_response(&self, token: &str, _expires_in: Option<u64>) -> Result<Response, ApiError> {
        Ok(Json(json!({ "access_token": token, "token_type": "bearer" })).into_response())
    }

    fn logout_response(&self) -> Response {
        axum::http::StatusCode::NO_CONTENT.into_response()
    }

    fn openapi(&self) -> TransportDoc {
        TransportDoc::Bearer
    }
}
