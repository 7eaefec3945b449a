//! Request bodies as FastAPI reads them, with its 422 error list on every mistake and
//! a JSON `detail` even for an oversized body.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde_json::{Map, Value};

use crate::error::{ApiError, FieldError};

/// How the body was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Json,
    Form,
    /// No body at all: an empty form to a form route, a missing body to a JSON one.
    Empty,
}

/// A body's top-level fields: a JSON object, or an urlencoded form (all values
/// strings; a repeated key keeps its last value, as Starlette does).
pub(crate) struct Fields {
    pub(crate) encoding: Encoding,
    map: Map<String, Value>,
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let media_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        Value::from("Request body too large"),
                    )
                } else {
                    ApiError::validation(vec![FieldError::whole_body(
                        "body_read",
                        "Could not read the request body",
                    )])
                }
            })?;
        if bytes.is_empty() {
            return Ok(Self {
                encoding: Encoding::Empty,
                map: Map::new(),
            });
        }
        match media_type.as_deref() {
            Some("application/x-www-form-urlencoded") => Self::form(&bytes),
            // FastAPI reads a body without a content type as JSON.
            None => Self::json(&bytes),
            Some(media) if media == "application/json" || media.ends_with("+json") => {
                Self::json(&bytes)
            }
            _ => Err(ApiError::validation(vec![FieldError::whole_body(
                "content_type",
                "Send application/json (or, for login, application/x-www-form-urlencoded)",
            )])),
        }
    }
}

impl Fields {
    /// The string value of `name`, if the body has one (to choose a route's form
    /// before reading it, as `grant_type` does).
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.map.get(name).and_then(Value::as_str)
    }

    /// A JSON object's fields (a passkey sign-up keeps them until its ceremony ends).
    #[cfg_attr(not(feature = "passkeys"), allow(dead_code))]
    pub(crate) fn map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// Fields kept from an earlier JSON body.
    #[cfg_attr(not(feature = "passkeys"), allow(dead_code))]
    pub(crate) fn from_map(map: Map<String, Value>) -> Self {
        Self {
            encoding: Encoding::Json,
            map,
        }
    }

    /// Reads the body inside a handler, after the caller was authorised: FastAPI
    /// answers 401/403 before it validates a body.
    pub(crate) async fn read(request: Request) -> Result<Self, ApiError> {
        <Self as FromRequest<()>>::from_request(request, &()).await
    }

    /// Refuses anything but a JSON object (routes whose body is a pydantic model).
    pub(crate) fn require_json(&self) -> Result<(), ApiError> {
        match self.encoding {
            Encoding::Json => Ok(()),
            Encoding::Empty => Err(ApiError::validation(vec![FieldError::whole_body(
                "missing",
                "Field required",
            )])),
            Encoding::Form => Err(ApiError::validation(vec![FieldError::whole_body(
                "model_attributes_type",
                "Send a JSON object",
            )])),
        }
    }

    /// A JSON body holding one e-mail field (forgot-password, request-verify-token).
    pub(crate) fn email_only(&self) -> Result<String, ApiError> {
        self.require_json()?;
        let mut reader = Reader::new(self);
        let email = reader.email("email");
        reader.finish_with(email)
    }

    fn form(bytes: &[u8]) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).map_err(|_| {
            ApiError::validation(vec![FieldError::whole_body(
                "form_invalid",
                "Form data is not valid urlencoded UTF-8",
            )])
        })?;
        let map = pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        Ok(Self {
            encoding: Encoding::Form,
            map,
        })
    }

    fn json(bytes: &[u8]) -> Result<Self, ApiError> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Self {
                encoding: Encoding::Json,
                map,
            }),
            Ok(_) => Err(ApiError::validation(vec![FieldError::whole_body(
                "model_attributes_type",
                "Input should be a valid dictionary or object to extract fields from",
            )])),
            Err(_) => Err(ApiError::validation(vec![FieldError::whole_body(
                "json_invalid",
                "JSON decode error",
            )])),
        }
    }
}

/// Reads fields, collecting every problem so the 422 lists them all at once.
pub(crate) struct Reader<'a> {
    fields: &'a Fields,
    errors: Vec<FieldError>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(fields: &'a Fields) -> Self {
        Self {
            fields,
            errors: Vec::new(),
        }
    }

    /// A required string of at most `max` bytes.
    pub(crate) fn string(&mut self, name: &str, max: usize) -> Option<&'a str> {
        match self.fields.map.get(name) {
            None | Some(Value::Null) => {
                self.errors
                    .push(FieldError::body(name, "missing", "Field required"));
                None
            }
            Some(Value::String(s)) if s.len() > max => {
                self.errors.push(FieldError::body(
                    name,
                    "string_too_long",
                    format!("String should have at most {max} bytes"),
                ));
                None
            }
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.errors.push(FieldError::body(
                    name,
                    "string_type",
                    "Input should be a valid string",
                ));
                None
            }
        }
    }

    /// An optional string of at most `max` bytes.
    pub(crate) fn optional_string(&mut self, name: &str, max: usize) -> Option<&'a str> {
        match self.fields.map.get(name) {
            None | Some(Value::Null) => None,
            Some(_) => self.string(name, max),
        }
    }

    /// A required e-mail, validated and normalised like FastAPI's `EmailStr`.
    pub(crate) fn email(&mut self, name: &str) -> Option<String> {
        let raw = self.string(name, crate::user::MAX_EMAIL_LEN)?;
        self.check_email(name, raw)
    }

    /// An optional e-mail.
    pub(crate) fn optional_email(&mut self, name: &str) -> Option<String> {
        let raw = self.optional_string(name, crate::user::MAX_EMAIL_LEN)?;
        self.check_email(name, raw)
    }

    fn check_email(&mut self, name: &str, raw: &str) -> Option<String> {
        match crate::user::normalize_email(raw) {
            Ok(email) => Some(email),
            Err(msg) => {
                self.errors.push(FieldError::body(name, "value_error", msg));
                None
            }
        }
    }

    /// An optional string, which must equal `expected` when present and non-empty
    /// (OAuth2's `grant_type=password`); whether it was given so.
    pub(crate) fn optional_literal(&mut self, name: &str, expected: &str) -> bool {
        match self.fields.map.get(name) {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) if s.is_empty() => false,
            Some(Value::String(s)) if s == expected => true,
            Some(_) => {
                self.errors.push(FieldError::body(
                    name,
                    "string_pattern_mismatch",
                    format!("String should match pattern '^{expected}$'"),
                ));
                false
            }
        }
    }

    /// An optional boolean. In a form, whose values are all strings, the words
    /// pydantic reads as booleans (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`,
    /// any case: an HTML checkbox sends `on`).
    pub(crate) fn optional_bool(&mut self, name: &str) -> Option<bool> {
        let form = self.fields.encoding == Encoding::Form;
        match self.fields.map.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s))
                if form
                    && ["true", "1", "yes", "on", "t", "y"]
                        .iter()
                        .any(|word| s.eq_ignore_ascii_case(word)) =>
            {
                Some(true)
            }
            Some(Value::String(s))
                if form
                    && ["false", "0", "no", "off", "f", "n"]
                        .iter()
                        .any(|word| s.eq_ignore_ascii_case(word)) =>
            {
                Some(false)
            }
            Some(_) => {
                self.errors.push(FieldError::body(
                    name,
                    "bool_type",
                    "Input should be a valid boolean",
                ));
                None
            }
        }
    }

    /// An optional list of names out of `valid` (the application's scopes or
    /// roles), each kept once: `None` when absent or `null`. Unknown names are one
    /// 422 that lists the valid ones, so a client can correct itself.
    pub(crate) fn optional_names(
        &mut self,
        name: &str,
        valid: &'static [&'static str],
    ) -> Option<Vec<String>> {
        let items = match self.fields.map.get(name) {
            None | Some(Value::Null) => return None,
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.errors.push(FieldError::body(
                    name,
                    "list_type",
                    "Input should be a valid list",
                ));
                return None;
            }
        };
        let mut names: Vec<String> = Vec::with_capacity(items.len());
        let mut unknown = Vec::new();
        for item in items {
            match item.as_str() {
                Some(given) if valid.contains(&given) => {
                    if !names.iter().any(|held| held == given) {
                        names.push(given.to_owned());
                    }
                }
                Some(given) => unknown.push(given.chars().take(64).collect::<String>()),
                None => {
                    self.errors.push(FieldError::body(
                        name,
                        "string_type",
                        "Input should be a list of strings",
                    ));
                    return None;
                }
            }
        }
        if !unknown.is_empty() {
            self.errors.push(FieldError::body(
                name,
                "value_error",
                format!(
                    "Unknown {name}: {}; the valid {name} are: {}",
                    unknown.join(", "),
                    if valid.is_empty() {
                        "none (the application declares none)".to_owned()
                    } else {
                        valid.join(", ")
                    }
                ),
            ));
            return None;
        }
        Some(names)
    }

    /// Reads the model's extra fields with its generated reader, which reports into
    /// the same error list.
    pub(crate) fn extra<T>(
        &mut self,
        read: impl FnOnce(&Map<String, Value>, &mut Vec<FieldError>) -> T,
    ) -> T {
        read(&self.fields.map, &mut self.errors)
    }

    pub(crate) fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// The values read, once every one of them is there: the collected problems as a
    /// 422 otherwise. (A required value that is absent has pushed its own problem, so
    /// the fallback 422 below is never the one answered.)
    pub(crate) fn finish_with<T: Present>(self, values: T) -> Result<T::Value, ApiError> {
        self.finish()?;
        values.present().ok_or_else(|| {
            ApiError::validation(vec![FieldError::whole_body("missing", "Field required")])
        })
    }

    /// The collected problems as a 422, if any.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.errors))
        }
    }
}

/// Values read as `Option`s (or a tuple of them), all present.
pub(crate) trait Present {
    type Value;
    fn present(self) -> Option<Self::Value>;
}

impl<A> Present for Option<A> {
    type Value = A;
    fn present(self) -> Option<A> {
        self
    }
}

impl<A, B> Present for (Option<A>, Option<B>) {
    type Value = (A, B);
    fn present(self) -> Option<(A, B)> {
        Some((self.0?, self.1?))
    }
}

impl<A, B, C> Present for (Option<A>, Option<B>, Option<C>) {
    type Value = (A, B, C);
    fn present(self) -> Option<(A, B, C)> {
        Some((self.0?, self.1?, self.2?))
    }
}
