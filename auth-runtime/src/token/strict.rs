//! Strict compact-JWS parsing, done before any signature check or claim read.
//!
//! jsonwebtoken is lenient where RFC 8725 asks for strictness, so this module checks
//! the token's shape itself: exactly three segments, canonical unpadded base64url,
//! UTF-8 JSON objects without duplicate names, a pinned `alg`, no `crit`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::{Algorithm, TokenError};

/// Longest token we look at. Ours are ~300 bytes (RS512: ~700); anything near this
/// is hostile, and refusing it before decoding keeps a 1 MB header cheap.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The three segments of a compact JWS, with the header already checked.
pub(crate) struct Parts<'a> {
    /// `header.payload`, exactly as received: what the signature covers.
    pub signing_input: &'a str,
    pub signature: &'a str,
    pub payload_b64: &'a str,
    /// The header's `kid`: it may choose among the backend's configured keys, never
    /// bring one.
    pub kid: Option<String>,
}

/// Splits and checks the token's shape and header. Does not verify the signature.
pub(crate) fn split(token: &str, pinned: Algorithm) -> Result<Parts<'_>, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLarge);
    }
    if !token.bytes().all(|b| b == b'.' || is_b64url(b)) {
        return Err(TokenError::Malformed("characters outside base64url"));
    }
    let mut segments = token.splitn(4, '.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(TokenError::Malformed("a JWS has exactly three segments"));
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        // An empty signature is an unsecured JWS (`alg: none`, RFC 7515 A.5).
        return Err(TokenError::Malformed("empty segment"));
    }
    let kid = check_header(&decode_segment(header)?, pinned)?;
    // The signature segment must be canonical too: lenient decoders give one token
    // several spellings, which defeats deny-lists keyed by the token string.
    decode_segment(signature)?;
    Ok(Parts {
        signing_input: &token[..header.len() + 1 + payload.len()],
        signature,
        payload_b64: payload,
        kid,
    })
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Canonical base64url without padding: the `base64` crate's `URL_SAFE_NO_PAD`
/// rejects `=` and non-zero trailing bits (RFC 7515 §2, RFC 7519 §7.2).
pub(crate) fn decode_segment(segment: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenError::Malformed("segment is not canonical base64url"))
}

/// Header parameters that carry or point at keys. We never trust or fetch them
/// (RFC 8725 §3.10); a token carrying one was not minted by us.
const KEY_CARRYING_PARAMS: [&str; 6] = ["jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256"];

/// Checks the header; returns its `kid`, if any.
fn check_header(bytes: &[u8], pinned: Algorithm) -> Result<Option<String>, TokenError> {
    let header =
        parse_object(bytes).map_err(|_| TokenError::Malformed("header is not a JSON object"))?;
    // RFC 8725 §3.1: the server decides the algorithm; the header may only agree.
    match header.get("alg") {
        Some(Value::String(alg)) if alg == pinned.as_str() => {}
        _ => return Err(TokenError::Algorithm),
    }
    // RFC 7515 §4.1.11: a recipient that does not understand a `crit` extension must
    // reject the token; we understand none.
    if header.contains_key("crit") {
        return Err(TokenError::Header("crit is not supported"));
    }
    if KEY_CARRYING_PARAMS
        .iter()
        .any(|param| header.contains_key(*param))
    {
        return Err(TokenError::Header("embedded or remote keys are never used"));
    }
    match header.get("typ") {
        None => {}
        Some(Value::String(typ)) if typ.eq_ignore_ascii_case("JWT") => {}
        Some(_) => return Err(TokenError::Header("typ must be JWT")),
    }
    // `kid` only selects among the keys the server configured (RFC 8725 §3.10); a
    // kid naming none of them falls back to the signing key, so a JWS that carries
    // a foreign kid, like RFC 7520 §4.4's, verifies against that key or not at all.
    match header.get("kid") {
        None => Ok(None),
        Some(Value::String(kid)) => Ok(Some(kid.clone())),
        Some(_) => Err(TokenError::Header("kid must be a string")),
    }
}

/// Parses a UTF-8 JSON object, rejecting duplicate member names at every depth
/// (RFC 7519 §4: a JWT with duplicate claim names must be rejected or use the last;
/// we reject). serde_json's recursion limit bounds nesting.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue.deserialize(&mut deserializer)?;
    deserializer.end()?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(de::Error::custom("expected a JSON object")),
    }
}

struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom("duplicate member name"));
            }
            let value = access.next_value_seed(StrictValue)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn token(header: &str) -> String {
        format!("{}.{}.c2ln", b64(header), b64("{}"))
    }

    #[test]
    fn duplicate_names_are_rejected_at_any_depth() {
        assert!(parse_object(br#"{"a":1,"a":2}"#).is_err());
        assert!(parse_object(br#"{"a":{"b":1,"b":1}}"#).is_err());
        assert!(parse_object(br#"{"a":[{"b":1,"b":1}]}"#).is_err());
        assert!(parse_object(br#"{"a":1,"b":{"a":2}}"#).is_ok());
    }

    #[test]
    fn non_objects_and_trailing_data_are_rejected() {
        assert!(parse_object(b"[]").is_err());
        assert!(parse_object(b"\"x\"").is_err());
        assert!(parse_object(b"{} {}").is_err());
        assert!(parse_object(b"{\"a\":\"\xff\"}").is_err());
    }

    #[test]
    fn deep_nesting_fails_fast() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_object(deep.as_bytes()).is_err());
    }

    #[test]
    fn alg_must_equal_the_pinned_algorithm() {
        let pinned = Algorithm::HS256;
        assert!(split(&token(r#"{"alg":"HS256"}"#), pinned).is_ok());
        for header in [
            r#"{"alg":"none"}"#,
            r#"{"alg":"None"}"#,
            r#"{"alg":"hs256"}"#,
            r#"{"alg":"HS512"}"#,
            r#"{"alg":null}"#,
            r#"{"alg":["HS256"]}"#,
            r#"{"typ":"JWT"}"#,
        ] {
            assert!(
                matches!(split(&token(header), pinned), Err(TokenError::Algorithm)),
                "{header}"
            );
        }
    }

    #[test]
    fn crit_and_key_headers_are_rejected() {
        for header in [
            r#"{"alg":"HS256","crit":["exp"]}"#,
            r#"{"alg":"HS256","jku":"https://evil.example/jwks"}"#,
            r#"{"alg":"HS256","jwk":{"kty":"oct","k":"AA"}}"#,
            r#"{"alg":"HS256","x5u":"https://evil.example/cert"}"#,
            r#"{"alg":"HS256","typ":"JWE"}"#,
        ] {
            assert!(split(&token(header), Algorithm::HS256).is_err(), "{header}");
        }
    }

    #[test]
    fn shape_is_exactly_three_canonical_segments() {
        let good = token(r#"{"alg":"HS256"}"#);
        assert!(split(&good, Algorithm::HS256).is_ok());
        assert!(split(&format!("{good}="), Algorithm::HS256).is_err());
        assert!(split(&format!("{good}.x"), Algorithm::HS256).is_err());
        assert!(split(&good.replacen('.', "", 1), Algorithm::HS256).is_err());
        assert!(split(&format!("{good} "), Algorithm::HS256).is_err());
        let empty_sig = &good[..good.rfind('.').unwrap() + 1];
        assert!(split(empty_sig, Algorithm::HS256).is_err());
        assert!(matches!(
            split(&".".repeat(10_000), Algorithm::HS256),
            Err(TokenError::TooLarge)
        ));
    }
}
