//! The RFC 7515 A.1 and RFC 7520 §4.4 HMAC vectors, and the negatives derived from
//! them (tests/fixtures/jose-test-vectors.json), against the token core: signatures
//! are verified over the received segments, and every derived negative is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use warden::{JwtStrategy, Lifetime, TokenError};

const VECTORS: &str = "fixtures/jose-test-vectors.json";
const A1: &str = "rfc7515-a1-hs256";
const RFC7520: &str = "rfc7520-4.4-hs256";

fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(VECTORS).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let vectors = file["vectors"].as_array().unwrap().clone();
    assert!(vectors.len() >= 8, "{} vectors", vectors.len());
    vectors
}

fn vector(id: &str) -> Value {
    vectors()
        .into_iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no vector {id}"))
}

fn id(vector: &Value) -> &str {
    vector["id"].as_str().unwrap()
}

fn compact(vector: &Value) -> &str {
    vector["compact"].as_str().unwrap()
}

/// The vector's `jwk.k`, decoded.
fn key(vector: &Value) -> Option<Vec<u8>> {
    let k = vector["jwk"]["k"].as_str()?;
    Some(URL_SAFE_NO_PAD.decode(k).unwrap())
}

/// HS256 with this key and the default audience (`fastapi-users:auth`).
fn strategy(key: Vec<u8>) -> JwtStrategy {
    JwtStrategy::builder(key, Lifetime::Seconds(60))
        .build()
        .unwrap()
}

fn expected(vector: &Value, field: &str) -> bool {
    // An absent expectation is a negative: only what is declared valid may pass.
    vector["expected"][field].as_bool().unwrap_or(false)
}

#[tokio::test]
async fn every_keyed_vector_verifies_exactly_as_expected() {
    let mut checked = 0;
    for vector in vectors() {
        let Some(key) = key(&vector) else { continue };
        let strategy = strategy(key);
        let token = compact(&vector);
        let signature = strategy.verify_signature(token);
        assert_eq!(
            signature.is_ok(),
            expected(&vector, "signature_valid"),
            "{}: verify_signature gave {:?}",
            id(&vector),
            signature
                .as_ref()
                .map(|p| String::from_utf8_lossy(p).into_owned())
        );
        let claims = strategy.verify(token);
        assert_eq!(
            claims.is_ok(),
            expected(&vector, "jwt_claims_valid_now"),
            "{}: verify gave {claims:?}",
            id(&vector)
        );
        // A token whose signature fails is refused before its claims are looked at.
        if !expected(&vector, "signature_valid") {
            assert!(
                matches!(
                    claims,
                    Err(TokenError::Signature | TokenError::Malformed(_) | TokenError::Algorithm)
                ),
                "{}: {claims:?}",
                id(&vector)
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 7, "keyed vectors");
}

#[tokio::test]
async fn rfc_vectors_have_the_key_lengths_and_segments_they_claim() {
    for vector in vectors() {
        if let (Some(key), Some(len)) = (key(&vector), vector["key_octets_len"].as_u64()) {
            assert_eq!(key.len() as u64, len, "{}", id(&vector));
        }
        if let Some(protected) = vector["protected_b64u"].as_str() {
            let token = compact(&vector);
            let payload = vector["payload_b64u"].as_str().unwrap();
            let signature = vector["signature_b64u"].as_str().unwrap();
            assert_eq!(token, format!("{protected}.{payload}.{signature}"));
        }
    }
    let a1 = vector(A1);
    let header = URL_SAFE_NO_PAD
        .decode(a1["protected_b64u"].as_str().unwrap())
        .unwrap();
    let octets: Vec<u8> = a1["protected_header_octets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(header, octets);
    assert_eq!(
        header,
        a1["protected_header_utf8"].as_str().unwrap().as_bytes()
    );
}

#[tokio::test]
async fn a1_payload_is_returned_byte_for_byte() {
    let a1 = vector(A1);
    let strategy = strategy(key(&a1).unwrap());
    let payload = strategy.verify_signature(compact(&a1)).unwrap();
    assert_eq!(payload, a1["payload_utf8"].as_str().unwrap().as_bytes());
    // The CRLFs are there: the MAC covered the received bytes, not re-serialised JSON.
    assert!(payload.windows(2).any(|w| w == b"\r\n"));
    // Signature valid, but the JWT expired in 2011.
    assert_eq!(strategy.verify(compact(&a1)), Err(TokenError::Expired));
}

#[tokio::test]
async fn rfc7520_prose_payload_is_a_valid_jws_but_not_a_jwt() {
    let v = vector(RFC7520);
    let strategy = strategy(key(&v).unwrap());
    let payload = strategy.verify_signature(compact(&v)).unwrap();
    assert_eq!(payload, v["payload_utf8"].as_str().unwrap().as_bytes());
    assert!(matches!(
        strategy.verify(compact(&v)),
        Err(TokenError::Malformed(_))
    ));
}

#[tokio::test]
async fn alg_none_vector_is_refused_by_both_calls() {
    let none = vector("rfc7515-a5-unsecured");
    assert!(key(&none).is_none());
    let strategy = strategy(key(&vector(A1)).unwrap());
    let token = compact(&none);
    assert!(strategy.verify_signature(token).is_err());
    assert!(strategy.verify(token).is_err());
    // Also with the A.1 key's signature appended: the header alone condemns it.
    let a1 = vector(A1);
    let signature = a1["signature_b64u"].as_str().unwrap();
    let signed = format!("{token}{signature}");
    assert!(strategy.verify_signature(&signed).is_err());
    assert!(strategy.verify(&signed).is_err());
}

#[tokio::test]
async fn derived_negatives_are_refused_for_the_stated_reason() {
    let a1 = vector(A1);
    let strategy = strategy(key(&a1).unwrap());
    for (id, reason) in [
        ("derived-a1-bitflip-signature", TokenError::Signature),
        ("derived-a1-wrong-key", TokenError::Signature),
    ] {
        assert_eq!(
            strategy.verify_signature(compact(&vector(id))),
            Err(reason),
            "{id}"
        );
    }
    for id in [
        "derived-a1-padded-signature",
        "derived-a1-noncanonical-trailing-bits",
    ] {
        assert!(
            matches!(
                strategy.verify_signature(compact(&vector(id))),
                Err(TokenError::Malformed(_))
            ),
            "{id}"
        );
    }
}

#[tokio::test]
async fn wrong_key_vector_is_valid_under_the_rfc7520_key() {
    // The derived negative is meaningful: it is a correct MAC, just under another key.
    let wrong = vector("derived-a1-wrong-key");
    let other = strategy(key(&vector(RFC7520)).unwrap());
    let payload = other.verify_signature(compact(&wrong)).unwrap();
    assert_eq!(
        payload,
        vector(A1)["payload_utf8"].as_str().unwrap().as_bytes()
    );
    // And each RFC token fails under the other RFC key.
    let a1_strategy = strategy(key(&vector(A1)).unwrap());
    assert_eq!(
        a1_strategy.verify_signature(compact(&vector(RFC7520))),
        Err(TokenError::Signature)
    );
    assert_eq!(
        other.verify_signature(compact(&vector(A1))),
        Err(TokenError::Signature)
    );
}

#[tokio::test]
async fn fresh_jwt_under_the_a1_key_passes_full_validation() {
    let fresh = vector("derived-a1-key-fresh-jwt");
    let strategy = JwtStrategy::builder(key(&fresh).unwrap(), Lifetime::Seconds(60))
        .audience(["fastapi-users:auth"])
        .build()
        .unwrap();
    let claims = strategy.verify(compact(&fresh)).unwrap();
    assert_eq!(claims.sub, fresh["claims"]["sub"].as_str().unwrap());
    assert_eq!(claims.aud, ["fastapi-users:auth"]);
    assert_eq!(claims.exp, fresh["claims"]["exp"].as_i64());
    // Under another audience the same token is refused.
    let reset = JwtStrategy::builder(key(&fresh).unwrap(), Lifetime::Seconds(60))
        .audience(["fastapi-users:reset"])
        .build()
        .unwrap();
    assert_eq!(reset.verify(compact(&fresh)), Err(TokenError::Audience));
}
