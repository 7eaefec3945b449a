//! Token issue and verify: warden's `JwtStrategy` beside the plain jsonwebtoken calls
//! it builds on, in one run, so the cost of warden's strict checks shows as a ratio.
//!
//! ```text
//! cargo bench --bench token
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm as JwtAlg, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};
use std::hint::black_box;
use warden::{Algorithm, JwtStrategy, Lifetime};

const SECRET: &str = "benchmark-secret-that-is-at-least-32-bytes";
const SUB: &str = "5b0a07a2-5d3e-4fb0-9b2b-6a6f2e0c6d1e";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn hs256(c: &mut Criterion) {
    let strategy = JwtStrategy::builder(SECRET, Lifetime::Seconds(3600))
        .build()
        .unwrap();
    let encoding = EncodingKey::from_secret(SECRET.as_bytes());
    let decoding = DecodingKey::from_secret(SECRET.as_bytes());
    let mut validation = Validation::new(JwtAlg::HS256);
    validation.set_audience(&["fastapi-users:auth"]);
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    validation.validate_nbf = true;
    let claims = || {
        let iat = now();
        json!({"sub": SUB, "aud": ["fastapi-users:auth"], "exp": iat + 3600, "iat": iat,
               "jti": uuid::Uuid::new_v4().simple().to_string()})
    };
    let header = Header::new(JwtAlg::HS256);

    let mut group = c.benchmark_group("hs256");
    group.bench_function("issue/warden", |b| {
        b.iter(|| strategy.issue(black_box(SUB)).unwrap())
    });
    group.bench_function("issue/jsonwebtoken", |b| {
        b.iter(|| jsonwebtoken::encode(&header, &claims(), &encoding).unwrap())
    });
    let token = strategy.issue(SUB).unwrap();
    group.bench_function("verify/warden", |b| {
        b.iter(|| strategy.verify(black_box(&token)).unwrap())
    });
    group.bench_function("verify/jsonwebtoken", |b| {
        b.iter(|| jsonwebtoken::decode::<Value>(black_box(&token), &decoding, &validation).unwrap())
    });
    group.finish();
}

fn rs256(c: &mut Criterion) {
    let private = std::fs::read("tests/fixtures/keys/rsa-private.pem").unwrap();
    let public = std::fs::read("tests/fixtures/keys/rsa-public.pem").unwrap();
    let strategy = JwtStrategy::builder(private, Lifetime::Seconds(3600))
        .algorithm(Algorithm::RS256)
        .public_key(public.clone())
        .build()
        .unwrap();
    let decoding = DecodingKey::from_rsa_pem(&public).unwrap();
    let mut validation = Validation::new(JwtAlg::RS256);
    validation.set_audience(&["fastapi-users:auth"]);
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    validation.validate_nbf = true;
    let token = strategy.issue(SUB).unwrap();
    let mut group = c.benchmark_group("rs256");
    group.bench_function("verify/warden", |b| {
        b.iter(|| strategy.verify(black_box(&token)).unwrap())
    });
    group.bench_function("verify/jsonwebtoken", |b| {
        b.iter(|| jsonwebtoken::decode::<Value>(black_box(&token), &decoding, &validation).unwrap())
    });
    group.finish();
}

criterion_group!(benches, hs256, rs256);
criterion_main!(benches);
