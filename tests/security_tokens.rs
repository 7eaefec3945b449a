//! Token requirements (RFC 8725, RFC 7515/7518/7519, RFC 6750): hostile access tokens, forged by hand and sent over real
//! HTTP. Every forged token differs from an accepted control in exactly the property
//! under test, and every refusal must be the plain 401 of FastAPI Users (plus
//! `WWW-Authenticate: Bearer`), never a 500, a panic or a hang.

mod common;

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{
    GeneralPurpose, GeneralPurposeConfig, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
};
use jsonwebtoken::{Algorithm as JwtAlgorithm, EncodingKey, crypto};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;
use warden::{Algorithm, JwtStrategy, Lifetime, MemoryStore, TokenError, Warden};

use common::{SECRET, Server};

/// An RS256 backend, for the key-confusion cases.
#[warden::auth_backend(
    name = "rsa",
    lifetime = 3600,
    algorithm = "RS256",
    secret = file("fixtures/keys/rsa-private.pem"),
    public_key = file("fixtures/keys/rsa-public.pem")
)]
pub struct Rsa;

/// An ES256 backend, for the r = 0 / s = 0 cases.
#[warden::auth_backend(
    name = "es",
    lifetime = 3600,
    algorithm = "ES256",
    secret = file("fixtures/keys/p256-private.pem"),
    public_key = file("fixtures/keys/p256-public.pem")
)]
pub struct Es;

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;
const AUD: &str = "fastapi-users:auth";
const EMAIL: &str = "alice@example.com";
const PASSWORD: &str = "correct-horse-battery";
/// Hang detection for hostile sizes, not a benchmark.
const QUICK: Duration = Duration::from_secs(2);

// ---------------------------------------------------------------------------------
// Forging
// ---------------------------------------------------------------------------------

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn key_file(name: &str) -> Vec<u8> {
    std::fs::read(format!("fixtures/keys/{name}")).unwrap()
}

/// The signature segment of `signing_input` under `key` and `alg`.
fn sign_with(signing_input: &str, key: &EncodingKey, alg: JwtAlgorithm) -> String {
    crypto::sign(signing_input.as_bytes(), key, alg).unwrap()
}

/// HS256 with the server's secret over exactly these bytes.
fn hs256(signing_input: &str) -> String {
    sign_with(
        signing_input,
        &EncodingKey::from_secret(SECRET.as_bytes()),
        JwtAlgorithm::HS256,
    )
}

/// `header.payload.signature` with the segments exactly as given, signed with the
/// server's secret over exactly `header_b64.payload_b64`.
fn sign_segments(header_b64: &str, payload_b64: &str) -> String {
    let input = format!("{header_b64}.{payload_b64}");
    let signature = hs256(&input);
    format!("{input}.{signature}")
}

/// Encodes the raw header and payload bytes and signs them with the server's secret.
fn forge(header: impl AsRef<[u8]>, payload: impl AsRef<[u8]>) -> String {
    sign_segments(&b64(header), &b64(payload))
}

/// Encodes the raw header and payload bytes and signs them with another key.
fn forge_with(
    header: impl AsRef<[u8]>,
    payload: impl AsRef<[u8]>,
    key: &EncodingKey,
    alg: JwtAlgorithm,
) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let signature = sign_with(&input, key, alg);
    format!("{input}.{signature}")
}

/// The claims FastAPI Users puts in an access token, for `sub`, valid for an hour.
fn claims(sub: &str) -> String {
    format!(
        r#"{{"sub":"{sub}","aud":["{AUD}"],"exp":{}}}"#,
        now() + 3600
    )
}

/// `claims(sub)` with `extra` (`"name":value,...`) spliced in after `exp`.
fn claims_with(sub: &str, extra: &str) -> String {
    format!(
        r#"{{"sub":"{sub}","aud":["{AUD}"],"exp":{},{extra}}}"#,
        now() + 3600
    )
}

/// Decodes a canonical signature segment, flips one bit, re-encodes canonically.
fn flip_signature_bit(token: &str, byte: usize, bit: u8) -> String {
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[byte] ^= 1 << bit;
    format!("{input}.{}", b64(bytes))
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The same bytes spelled with non-zero unused trailing bits: a lenient decoder reads
/// the same bytes, a canonical one refuses. `segment` must not be a multiple of 4 long.
fn noncanonical(segment: &str) -> String {
    assert_ne!(segment.len() % 4, 0, "{segment} has no unused bits");
    let last = *segment.as_bytes().last().unwrap();
    let value = ALPHABET.iter().position(|&c| c == last).unwrap();
    assert_eq!(value & 1, 0, "unused bits of a canonical segment are zero");
    let spelled = format!(
        "{}{}",
        &segment[..segment.len() - 1],
        ALPHABET[value | 1] as char
    );
    let lenient = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
    );
    assert_eq!(
        lenient.decode(&spelled).unwrap(),
        URL_SAFE_NO_PAD.decode(segment).unwrap(),
        "the non-canonical spelling must decode to the same bytes leniently"
    );
    assert!(URL_SAFE_NO_PAD.decode(&spelled).is_err());
    spelled
}

/// A payload for `sub` whose length is 1 mod 3, so that its base64url has unused
/// bits and would take `==` padding.
fn unaligned_claims(sub: &str) -> String {
    for filler in 0..3 {
        let payload = claims_with(sub, &format!(r#""pad":"{}""#, "x".repeat(filler)));
        if payload.len() % 3 == 1 {
            return payload;
        }
    }
    unreachable!()
}

/// A header whose length is not a multiple of 3 (28 bytes: one space).
const UNALIGNED_HEADER: &str = r#"{"alg":"HS256", "typ":"JWT"}"#;

async fn timed<T>(future: impl Future<Output = T>) -> (T, Duration) {
    let start = Instant::now();
    let out = future.await;
    (out, start.elapsed())
}

// ---------------------------------------------------------------------------------
// The server under test
// ---------------------------------------------------------------------------------

/// A server with one registered, active user.
struct Fixture {
    server: Server,
    id: String,
}

async fn fixture() -> Fixture {
    fixture_on(common::spawn().await).await
}

async fn fixture_on(server: Server) -> Fixture {
    let (status, body) = server.register(EMAIL, PASSWORD).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    Fixture { server, id }
}

impl Fixture {
    /// `GET /users/me` with `Authorization: Bearer <token>`; (status, challenge, body).
    async fn me(&self, token: &str) -> (u16, Option<String>, Value) {
        let response = self
            .server
            .client
            .get(self.server.url("/users/me"))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        (
            status,
            challenge,
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// The token authenticates the fixture's user.
    async fn accepted(&self, token: &str, case: &str) {
        let (status, _, body) = self.me(token).await;
        assert_eq!(status, 200, "control `{case}` must be accepted: {body}");
        assert_eq!(body["id"], self.id.as_str(), "control `{case}`");
        assert_eq!(body["email"], EMAIL, "control `{case}`");
    }

    /// The token gets exactly FastAPI Users' 401.
    async fn refused(&self, token: &str, case: &str) {
        let (status, challenge, body) = self.me(token).await;
        assert_eq!(status, 401, "`{case}` must be refused with 401: {body}");
        assert_eq!(body, json!({"detail": "Unauthorized"}), "`{case}`");
        assert_eq!(
            challenge.as_deref(),
            Some(common::INVALID_TOKEN),
            "`{case}`"
        );
    }

    /// Like [`refused`](Self::refused), and within [`QUICK`].
    async fn refused_quickly(&self, token: &str, case: &str) {
        let ((), elapsed) = timed(self.refused(token, case)).await;
        assert!(elapsed < QUICK, "`{case}` took {elapsed:?}");
    }
}

/// One raw HTTP/1.1 exchange, written by hand (for what reqwest will not send). The
/// request is written while the response is read, so a server that answers early
/// and closes (431) is still heard. Returns the status and the response text, or
/// `None` when the connection closed without a response.
async fn raw_exchange(base: &str, request: Vec<u8>) -> Option<(u16, String)> {
    let addr = base.trim_start_matches("http://");
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let write = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        // Keep the write half open (no FIN) until the response has been read.
        writer
    });
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut response))
        .await
        .expect("the server must answer or close, not hang");
    let _ = write.await;
    if read.is_err() && response.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, text))
}

/// `GET /users/me` with these header lines (each ending in CRLF).
fn raw_me_request(header_lines: &str) -> Vec<u8> {
    format!("GET /users/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{header_lines}\r\n")
        .into_bytes()
}

fn raw_body(response: &str) -> Value {
    let (_, body) = response.split_once("\r\n\r\n").unwrap();
    serde_json::from_str(body).unwrap()
}

/// The `WWW-Authenticate` value of a raw response, if any.
fn raw_challenge(response: &str) -> Option<&str> {
    let (head, _) = response.split_once("\r\n\r\n").unwrap();
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("www-authenticate")
            .then_some(value.trim())
    })
}

/// A listener that records whether anyone connects: the URLs in hostile headers
/// point here, and the server must never come.
struct Spy {
    listener: TcpListener,
    url: String,
}

async fn spy() -> Spy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/keys.json", listener.local_addr().unwrap());
    Spy { listener, url }
}

impl Spy {
    async fn assert_never_contacted(&self) {
        let accepted =
            tokio::time::timeout(Duration::from_millis(300), self.listener.accept()).await;
        assert!(
            accepted.is_err(),
            "the server fetched a URL named by a token"
        );
    }
}

// ---------------------------------------------------------------------------------
// Controls
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn control_the_forging_code_with_correct_fields_is_accepted() {
    let f = fixture().await;
    f.accepted(&forge(HEADER, claims(&f.id)), "forged HS256")
        .await;
    f.accepted(&forge(r#"{"alg":"HS256"}"#, claims(&f.id)), "no typ")
        .await;
    let issued = f.server.login(EMAIL, PASSWORD).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    f.accepted(&issued, "token from login").await;
}

// ---------------------------------------------------------------------------------
// Item 1: the algorithm is pinned by the server
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn item_01_alg_none_in_any_casing_is_rejected() {
    let f = fixture().await;
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        let input = format!("{}.{}", b64(&header), b64(claims(&f.id)));
        f.refused(&format!("{input}."), &format!("alg {alg}, no signature"))
            .await;
        f.refused(
            &format!("{input}.{}", hs256(&input)),
            &format!("alg {alg}, HMAC signature"),
        )
        .await;
        f.refused(
            &format!("{input}.{}", b64([0u8])),
            &format!("alg {alg}, junk signature"),
        )
        .await;
    }
}

#[tokio::test]
async fn item_01_other_algorithms_are_rejected() {
    let f = fixture().await;
    let payload = claims(&f.id);
    let secret = EncodingKey::from_secret(SECRET.as_bytes());
    // Valid HMAC signatures under the server's own secret, just another hash.
    for (alg, jwt_alg) in [
        ("HS384", JwtAlgorithm::HS384),
        ("HS512", JwtAlgorithm::HS512),
    ] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        f.refused(
            &forge_with(&header, &payload, &secret, jwt_alg),
            &format!("alg {alg} signed with the server secret"),
        )
        .await;
    }
    // The pinned name in another casing, with a valid HS256 signature.
    for alg in ["hs256", "Hs256", "HS256 ", " HS256", "HS-256"] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        f.refused(&forge(&header, &payload), &format!("alg {alg:?}"))
            .await;
    }
    // Asymmetric algorithms with valid signatures under real keys.
    let rsa = EncodingKey::from_rsa_pem(&key_file("rsa-private.pem")).unwrap();
    let p256 = EncodingKey::from_ec_pem(&key_file("p256-private.pem")).unwrap();
    let ed = EncodingKey::from_ed_pem(&key_file("ed25519-private.pem")).unwrap();
    for (alg, key, jwt_alg) in [
        ("RS256", &rsa, JwtAlgorithm::RS256),
        ("PS256", &rsa, JwtAlgorithm::PS256),
        ("ES256", &p256, JwtAlgorithm::ES256),
        ("EdDSA", &ed, JwtAlgorithm::EdDSA),
    ] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        f.refused(
            &forge_with(&header, &payload, key, jwt_alg),
            &format!("alg {alg} on the HS256 backend"),
        )
        .await;
    }
}

#[tokio::test]
async fn item_01_missing_null_array_or_number_alg_is_rejected() {
    let f = fixture().await;
    for header in [
        r#"{"typ":"JWT"}"#,
        r#"{}"#,
        r#"{"alg":null,"typ":"JWT"}"#,
        r#"{"alg":["HS256"],"typ":"JWT"}"#,
        r#"{"alg":[],"typ":"JWT"}"#,
        r#"{"alg":256,"typ":"JWT"}"#,
        r#"{"alg":true,"typ":"JWT"}"#,
        r#"{"alg":{"name":"HS256"},"typ":"JWT"}"#,
        r#"{"alg":"","typ":"JWT"}"#,
        r#"{"ALG":"HS256","typ":"JWT"}"#,
    ] {
        f.refused(&forge(header, claims(&f.id)), header).await;
    }
}

#[tokio::test]
async fn item_01_the_strategy_reports_the_algorithm_refusal() {
    let strategy = JwtStrategy::builder(SECRET, Lifetime::Seconds(60))
        .build()
        .unwrap();
    let payload = claims(&Uuid::new_v4().to_string());
    for header in [
        r#"{"alg":"none"}"#,
        r#"{"alg":"HS512"}"#,
        r#"{"alg":null}"#,
        r#"{"alg":["HS256"]}"#,
        r#"{"typ":"JWT"}"#,
    ] {
        assert_eq!(
            strategy.verify(&forge(header, &payload)),
            Err(TokenError::Algorithm),
            "{header}"
        );
    }
    assert!(strategy.verify(&forge(HEADER, &payload)).is_ok());
}

// ---------------------------------------------------------------------------------
// Item 2: the signature, over the received bytes, before any claim
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn item_02_signature_bit_flip_is_rejected() {
    let f = fixture().await;
    let token = forge(HEADER, claims(&f.id));
    f.accepted(&token, "unflipped").await;
    for (byte, bit) in [(0, 0), (0, 7), (15, 3), (31, 0), (31, 7)] {
        f.refused(
            &flip_signature_bit(&token, byte, bit),
            &format!("bit {bit} of signature byte {byte} flipped"),
        )
        .await;
    }
    let (input, signature) = token.rsplit_once('.').unwrap();
    let bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    f.refused(
        &format!("{input}.{}", b64(&bytes[..31])),
        "truncated signature",
    )
    .await;
    let mut longer = bytes.clone();
    longer.push(0);
    f.refused(&format!("{input}.{}", b64(longer)), "extended signature")
        .await;
    f.refused(&format!("{input}.{}", b64([0u8; 32])), "zero signature")
        .await;
    // The payload changed after signing (a later exp), the signature kept.
    let (header_b64, _) = input.split_once('.').unwrap();
    let later = format!(
        r#"{{"sub":"{}","aud":["{AUD}"],"exp":{}}}"#,
        f.id,
        now() + 7200
    );
    f.refused(
        &format!("{header_b64}.{}.{signature}", b64(later)),
        "payload swapped under a valid signature",
    )
    .await;
}

#[tokio::test]
async fn item_02_signature_covers_the_received_bytes_not_reserialised_json() {
    let f = fixture().await;
    let spaced_header = "{ \"alg\" : \"HS256\" ,\r\n \"typ\" : \"JWT\" }";
    let spaced_payload = format!(
        "{{\r\n  \"sub\": \"{}\",\r\n  \"aud\": [ \"{AUD}\" ],\r\n  \"exp\": {}\r\n}}",
        f.id,
        now() + 3600
    );
    // Signed over exactly the bytes sent: accepted, whitespace and all.
    f.accepted(
        &forge(spaced_header, &spaced_payload),
        "whitespace header and payload signed as sent",
    )
    .await;

    // The same bytes sent, but the MAC computed over the compact re-serialisation.
    let compact_header = serde_json::to_string(&json!({"alg": "HS256", "typ": "JWT"})).unwrap();
    let compact_payload =
        serde_json::to_string(&serde_json::from_str::<Value>(&spaced_payload).unwrap()).unwrap();
    let sent = format!("{}.{}", b64(spaced_header), b64(&spaced_payload));
    let reserialised = format!("{}.{}", b64(&compact_header), b64(&compact_payload));
    f.refused(
        &format!("{sent}.{}", hs256(&reserialised)),
        "MAC over re-serialised header and payload",
    )
    .await;
    let sent_header_only = format!("{}.{}", b64(spaced_header), b64(&compact_payload));
    let mac_header_only = format!("{}.{}", b64(&compact_header), b64(&compact_payload));
    f.refused(
        &format!("{sent_header_only}.{}", hs256(&mac_header_only)),
        "MAC over the re-serialised header",
    )
    .await;
    // Same JSON, other member order.
    let sent = format!("{}.{}", b64(HEADER), b64(claims(&f.id)));
    let reordered = format!(
        "{}.{}",
        b64(r#"{"typ":"JWT","alg":"HS256"}"#),
        b64(claims(&f.id))
    );
    f.refused(
        &format!("{sent}.{}", hs256(&reordered)),
        "MAC over the header with its members reordered",
    )
    .await;
}

#[tokio::test]
async fn item_02_signature_is_checked_before_any_claim_is_read() {
    let strategy = JwtStrategy::builder(SECRET, Lifetime::Seconds(60))
        .build()
        .unwrap();
    let wrong_key = EncodingKey::from_secret(b"another-secret-that-is-32-bytes-long!!");
    for payload in [
        "not json at all".to_owned(),
        r#"{"exp":"tomorrow"}"#.to_owned(),
        r#"{"sub":1,"sub":2}"#.to_owned(),
        "[1,2,3]".to_owned(),
        format!("{}1{}", "[".repeat(1000), "]".repeat(1000)),
    ] {
        // Badly signed: the answer is about the signature, whatever the payload.
        let forged = forge_with(HEADER, &payload, &wrong_key, JwtAlgorithm::HS256);
        assert_eq!(
            strategy.verify(&forged),
            Err(TokenError::Signature),
            "{payload:.40}"
        );
        // Well signed: now (and only now) the payload is read, and refused.
        let signed = forge(HEADER, &payload);
        let error = strategy.verify(&signed).unwrap_err();
        assert_ne!(error, TokenError::Signature, "{payload:.40}");
    }
}

// ---------------------------------------------------------------------------------
// Item 3: keys never come from the token
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn item_03_jwk_jku_x5u_x5c_headers_are_rejected_and_never_fetched() {
    let f = fixture().await;
    let spy = spy().await;
    let attacker_secret = b"attacker-chosen-secret-of-32-bytes!!";
    let attacker = EncodingKey::from_secret(attacker_secret);
    let jwk = json!({"kty": "oct", "k": b64(attacker_secret)});
    let rsa_der = {
        let pem = String::from_utf8(key_file("rsa-public.pem")).unwrap();
        pem.lines()
            .filter(|line| !line.starts_with("-----"))
            .collect::<String>()
    };
    let headers = [
        json!({"alg": "HS256", "typ": "JWT", "jwk": jwk}).to_string(),
        json!({"alg": "HS256", "typ": "JWT", "jku": spy.url}).to_string(),
        json!({"alg": "HS256", "typ": "JWT", "x5u": spy.url}).to_string(),
        json!({"alg": "HS256", "typ": "JWT", "x5c": [rsa_der]}).to_string(),
        json!({"alg": "HS256", "typ": "JWT", "jku": spy.url, "kid": "attacker"}).to_string(),
    ];
    for header in &headers {
        // Signed with the server's own secret: only the header parameter is wrong.
        f.refused(
            &forge(header, claims(&f.id)),
            &format!("{header} (server key)"),
        )
        .await;
        // Signed with the key the header offers.
        f.refused(
            &forge_with(header, claims(&f.id), &attacker, JwtAlgorithm::HS256),
            &format!("{header} (attacker key)"),
        )
        .await;
    }
    spy.assert_never_contacted().await;
}

#[tokio::test]
async fn item_03_kid_never_selects_or_fetches_a_key() {
    let f = fixture().await;
    let spy = spy().await;
    let attacker = EncodingKey::from_secret(b"attacker-chosen-secret-of-32-bytes!!");
    let empty = EncodingKey::from_secret(b"");
    let public_pem = EncodingKey::from_secret(&key_file("rsa-public.pem"));
    let kids = [
        spy.url.clone(),
        "../../../../../../dev/null".to_owned(),
        "/dev/null".to_owned(),
        "' OR '1'='1".to_owned(),
        "fixtures/keys/rsa-public.pem".to_owned(),
    ];
    for kid in &kids {
        let header = json!({"alg": "HS256", "typ": "JWT", "kid": kid}).to_string();
        for (name, key) in [
            ("attacker key", &attacker),
            ("empty key", &empty),
            ("public key file", &public_pem),
        ] {
            f.refused(
                &forge_with(&header, claims(&f.id), key, JwtAlgorithm::HS256),
                &format!("kid {kid:?} with the {name}"),
            )
            .await;
        }
        // With the server's own secret the kid selects nothing either: whatever the
        // answer, it is not a 500 and nothing is fetched.
        let (status, _, body) = f.me(&forge(&header, claims(&f.id))).await;
        assert!(
            status == 200 || status == 401,
            "kid {kid:?} with the server key: {status} {body}"
        );
    }
    spy.assert_never_contacted().await;
}

// ---------------------------------------------------------------------------------
// Item 4: one key, one algorithm
// ---------------------------------------------------------------------------------

async fn rsa_fixture() -> Fixture {
    let warden: Warden = Warden::builder()
        .store(MemoryStore::new())
        .backend::<Rsa>()
        .unwrap()
        .build()
        .unwrap();
    fixture_on(common::spawn_with(warden).await).await
}

async fn es_fixture() -> Fixture {
    let warden: Warden = Warden::builder()
        .store(MemoryStore::new())
        .backend::<Es>()
        .unwrap()
        .build()
        .unwrap();
    fixture_on(common::spawn_with(warden).await).await
}

#[tokio::test]
async fn item_04_rs256_backend_rejects_hmac_keyed_with_its_public_key() {
    let f = rsa_fixture().await;
    let payload = claims(&f.id);
    let private = EncodingKey::from_rsa_pem(&key_file("rsa-private.pem")).unwrap();
    let rs256 = r#"{"alg":"RS256","typ":"JWT"}"#;
    f.accepted(
        &forge_with(rs256, &payload, &private, JwtAlgorithm::RS256),
        "RS256 signed with the backend's private key",
    )
    .await;
    let issued = f
        .server
        .warden
        .strategy("rsa")
        .unwrap()
        .issue(&f.id)
        .unwrap();
    f.accepted(&issued, "RS256 token issued by the backend")
        .await;

    // PyJWT CVE-2022-29217: the public key PEM used as an HMAC secret.
    let public_pem = key_file("rsa-public.pem");
    let trimmed_pem = String::from_utf8(public_pem.clone())
        .unwrap()
        .trim_end()
        .to_owned()
        .into_bytes();
    for (name, key_bytes) in [("PEM", &public_pem), ("PEM without newline", &trimmed_pem)] {
        let hmac = EncodingKey::from_secret(key_bytes);
        for (alg, jwt_alg) in [
            ("HS256", JwtAlgorithm::HS256),
            ("HS384", JwtAlgorithm::HS384),
            ("HS512", JwtAlgorithm::HS512),
        ] {
            let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
            f.refused(
                &forge_with(&header, &payload, &hmac, jwt_alg),
                &format!("{alg} keyed with the public key {name}"),
            )
            .await;
        }
        // The header says RS256, the signature is an HMAC under the public key.
        f.refused(
            &forge_with(rs256, &payload, &hmac, JwtAlgorithm::HS256),
            &format!("alg RS256 with an HMAC keyed with the public key {name}"),
        )
        .await;
    }
    // The same RSA key under another RSA algorithm.
    for (alg, jwt_alg) in [
        ("PS256", JwtAlgorithm::PS256),
        ("RS384", JwtAlgorithm::RS384),
        ("RS512", JwtAlgorithm::RS512),
    ] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        f.refused(
            &forge_with(&header, &payload, &private, jwt_alg),
            &format!("{alg} signed with the backend's own RSA key"),
        )
        .await;
    }
    // Another key pair's valid RS256 signature.
    let other = EncodingKey::from_rsa_pem(&key_file("rsa2-private.pem")).unwrap();
    f.refused(
        &forge_with(rs256, &payload, &other, JwtAlgorithm::RS256),
        "RS256 signed with another private key",
    )
    .await;
}

/// The order of P-256.
const P256_N: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
];

#[tokio::test]
async fn item_04_es256_backend_rejects_zero_signatures() {
    let f = es_fixture().await;
    let header = r#"{"alg":"ES256","typ":"JWT"}"#;
    let payload = claims(&f.id);
    let private = EncodingKey::from_ec_pem(&key_file("p256-private.pem")).unwrap();
    let valid = forge_with(header, &payload, &private, JwtAlgorithm::ES256);
    f.accepted(&valid, "ES256 signed with the backend's private key")
        .await;

    let (input, signature) = valid.rsplit_once('.').unwrap();
    let rs = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert_eq!(rs.len(), 64, "ES256 signatures are r || s");
    let (r, s) = rs.split_at(32);
    let zero = [0u8; 32];
    let cases: [(&str, &[u8], &[u8]); 6] = [
        ("r = 0, s = 0 (CVE-2022-21449)", &zero, &zero),
        ("r = 0, s valid", &zero, s),
        ("r valid, s = 0", r, &zero),
        ("r = n, s = n", &P256_N, &P256_N),
        ("r = 0, s = n", &zero, &P256_N),
        ("r = n, s valid", &P256_N, s),
    ];
    for (name, r, s) in cases {
        let forged = format!("{input}.{}", b64([r, s].concat()));
        f.refused(&forged, name).await;
    }
    // The psychic signature over any header and payload, as an attacker sends it.
    let fresh = format!("{}.{}", b64(header), b64(claims(&f.id)));
    f.refused(&format!("{fresh}.{}", b64([0u8; 64])), "64 zero bytes")
        .await;
    // Another curve's signature, and a P-256 key under another algorithm.
    let p384 = EncodingKey::from_ec_pem(&key_file("p384-private.pem")).unwrap();
    f.refused(
        &forge_with(
            r#"{"alg":"ES384","typ":"JWT"}"#,
            &payload,
            &p384,
            JwtAlgorithm::ES384,
        ),
        "ES384 on the ES256 backend",
    )
    .await;
    let public_pem = EncodingKey::from_secret(&key_file("p256-public.pem"));
    f.refused(
        &forge_with(HEADER, &payload, &public_pem, JwtAlgorithm::HS256),
        "HS256 keyed with the P-256 public key",
    )
    .await;
}

// ---------------------------------------------------------------------------------
// Item 5: HMAC secrets at least as long as the hash
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn item_05_short_hmac_secrets_stop_startup() {
    for (alg, min) in [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ] {
        for len in [0, 1, 16, min - 1] {
            let secret = "k".repeat(len);
            let error = JwtStrategy::builder(secret.as_str(), Lifetime::Seconds(60))
                .algorithm(alg)
                .build()
                .expect_err(&format!("{alg} with a {len}-byte secret must not build"));
            let message = error.to_string();
            assert!(message.contains("secret"), "{alg}/{len}: {message}");
            if len >= 8 {
                assert!(
                    !message.contains(&secret),
                    "the error must not print the secret: {message}"
                );
            }
        }
        let exact = "k".repeat(min);
        assert!(
            JwtStrategy::builder(exact.as_str(), Lifetime::Seconds(60))
                .algorithm(alg)
                .build()
                .is_ok(),
            "{alg} with exactly {min} bytes must build"
        );
    }
    // Lengths are in bytes, not characters: 30 ASCII + 'é' is 32 bytes.
    let bytes_not_chars = format!("{}é", "k".repeat(30));
    assert_eq!(bytes_not_chars.len(), 32);
    assert!(
        JwtStrategy::builder(bytes_not_chars.as_str(), Lifetime::Seconds(60))
            .build()
            .is_ok()
    );
    let short_chars = format!("{}é", "k".repeat(29));
    assert!(
        JwtStrategy::builder(short_chars.as_str(), Lifetime::Seconds(60))
            .build()
            .is_err()
    );
}

/// HS256 with a 31-byte literal, written by hand: `#[auth_backend]` would refuse it
/// at compile time, so startup must.
pub struct ShortHs256;

impl warden::AuthBackend for ShortHs256 {
    const CONFIG: warden::BackendConfig = warden::BackendConfig {
        name: "short",
        algorithm: Algorithm::HS256,
        secret: warden::KeySource::Literal("a-secret-of-thirty-one-bytes!!!"),
        ..<common::Jwt as warden::AuthBackend>::CONFIG
    };
}

/// HS512 with the 42-byte test secret: long enough for HS256, not for HS512.
pub struct ShortHs512;

impl warden::AuthBackend for ShortHs512 {
    const CONFIG: warden::BackendConfig = warden::BackendConfig {
        name: "short512",
        algorithm: Algorithm::HS512,
        secret: warden::KeySource::Literal(SECRET),
        ..<common::Jwt as warden::AuthBackend>::CONFIG
    };
}

#[tokio::test]
async fn item_05_short_hmac_secrets_stop_warden_startup() {
    assert_eq!("a-secret-of-thirty-one-bytes!!!".len(), 31);
    for (name, result) in [
        (
            "short",
            Warden::<warden::User>::builder()
                .store(MemoryStore::new())
                .backend::<ShortHs256>()
                .map(|_| ()),
        ),
        (
            "short512",
            Warden::<warden::User>::builder()
                .store(MemoryStore::new())
                .backend::<ShortHs512>()
                .map(|_| ()),
        ),
    ] {
        let message = result
            .expect_err("a short secret must stop startup")
            .to_string();
        assert!(message.contains("secret"), "{message}");
        assert!(message.contains(name), "{message}");
        assert!(!message.contains(SECRET), "{message}");
        assert!(!message.contains("a-secret-of-thirty-one"), "{message}");
    }
}

// ---------------------------------------------------------------------------------
// Item 6: exp, nbf, iat
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn item_06_exp_is_required_and_must_be_a_future_number() {
    let f = fixture().await;
    let id = &f.id;
    let t = now();
    let cases = [
        (
            "exp missing",
            format!(r#"{{"sub":"{id}","aud":["{AUD}"]}}"#),
        ),
        (
            "exp a string",
            format!(r#"{{"sub":"{id}","aud":["{AUD}"],"exp":"{}"}}"#, t + 3600),
        ),
        (
            "exp null",
            format!(r#"{{"sub":"{id}","aud":["{AUD}"],"exp":null}}"#),
        ),
        (
            "exp true",
            format!(r#"{{"sub":"{id}","aud":["{AUD}"],"exp":true}}"#),
        ),
        (
            "exp false",
            format!(r#"{{"sub":"{id}","aud":["{AUD}"],"exp":false}}"#),
        ),
        (
            "exp an array",
            format!(r#"{{"sub":"{id}","aud":["{AUD}"],"exp":[{}]}}"#, t + 3600),
        ),
        (
            "exp an object",
            format!(
                r#"{{"sub":"{id}","aud":["{AUD}"],"exp":{{"t":{}}}}}"#,
                t + 3600
            ),
        ),
        (
            "exp a float in the past",
            format!(r#"{{"sub":"{id}","aud":["{AUD}"],"exp":{}.5}}"#, t - 100),
        ),
        (
            "exp 1 s in the past",
            format!(r#"{{"sub":"{id}","aud":["{AUD}"],"exp":{}}}"#, t - 1),
        ),
        (
            "exp 61 s in the past",
            format!(r#"{{"sub":"{id}","aud":["{AUD}"],"exp":{}}}"#, t - 61),
        ),
        (
            "exp 0",
            format!(r#"{{"sub":"{id}","aud":["{AUD}"],"exp":0}}"#),
        ),
        (
            "exp negative",
            format!(r#"{{"sub":"{id}","aud":["{AUD}"],"exp":-1}}"#),
        ),
        (
            "exp 1e300",
            format!(r#"{{"sub":"{id}","aud":["{AUD}"],"exp":1e300}}"#),
        ),
        (
            "exp beyond u64",
            format!(r#"{{"sub":"{id}","aud":["{AUD}"],"exp":123456789012345678901234567890}}"#),
        ),
    ];
    for (case, payload) in &cases {
        f.refused(&forge(HEADER, payload), case).await;
    }
    f.accepted(
        &forge(
            HEADER,
            format!(r#"{{"sub":"{id}","aud":["{AUD}"],"exp":{}}}"#, t + 3600),
        ),
        "exp an hour ahead",
    )
    .await;
}

#[tokio::test]
async fn item_06_nbf_is_enforced() {
    let f = fixture().await;
    let t = now();
    for (case, extra) in [
        ("nbf in 2 minutes", format!(r#""nbf":{}"#, t + 120)),
        ("nbf in a year", format!(r#""nbf":{}"#, t + 365 * 86_400)),
        ("nbf a string", format!(r#""nbf":"{}""#, t - 10)),
        ("nbf null", r#""nbf":null"#.to_owned()),
        ("nbf a bool", r#""nbf":false"#.to_owned()),
    ] {
        f.refused(&forge(HEADER, claims_with(&f.id, &extra)), case)
            .await;
    }
    f.accepted(
        &forge(HEADER, claims_with(&f.id, &format!(r#""nbf":{}"#, t - 10))),
        "nbf in the past",
    )
    .await;
}

#[tokio::test]
async fn item_06_iat_in_the_future_is_rejected() {
    let f = fixture().await;
    let t = now();
    for (case, extra) in [
        ("iat in 2 minutes", format!(r#""iat":{}"#, t + 120)),
        ("iat in a year", format!(r#""iat":{}"#, t + 365 * 86_400)),
        ("iat a string", format!(r#""iat":"{t}""#)),
        ("iat null", r#""iat":null"#.to_owned()),
        ("iat a bool", r#""iat":true"#.to_owned()),
    ] {
        f.refused(&forge(HEADER, claims_with(&f.id, &extra)), case)
            .await;
    }
    f.accepted(
        &forge(HEADER, claims_with(&f.id, &format!(r#""iat":{t}"#))),
        "iat now",
    )
    .await;
}

#[tokio::test]
async fn item_06_leeway_is_at_most_60_seconds() {
    let error = JwtStrategy::builder(SECRET, Lifetime::Seconds(60))
        .leeway(61)
        .build()
        .expect_err("a 61 s leeway must not build");
    assert!(error.to_string().contains("leeway"), "{error}");
    let strategy = JwtStrategy::builder(SECRET, Lifetime::Seconds(60))
        .leeway(60)
        .build()
        .unwrap();
    let sub = Uuid::new_v4().to_string();
    let t = now();
    let at = |exp: i64, extra: &str| {
        forge(
            HEADER,
            format!(r#"{{"sub":"{sub}","aud":["{AUD}"],"exp":{exp}{extra}}}"#),
        )
    };
    assert!(strategy.verify(&at(t - 30, "")).is_ok(), "within leeway");
    assert_eq!(
        strategy.verify(&at(t - 120, "")),
        Err(TokenError::Expired),
        "beyond leeway"
    );
    assert_eq!(
        strategy.verify(&at(t + 3600, &format!(r#","nbf":{}"#, t + 300))),
        Err(TokenError::NotYetValid)
    );
    assert_eq!(
        strategy.verify(&at(t + 3600, &format!(r#","iat":{}"#, t + 300))),
        Err(TokenError::IssuedInFuture)
    );
}

// ---------------------------------------------------------------------------------
// Item 7: aud required, exact, one per token kind
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn item_07_aud_is_required_and_matched_exactly() {
    let f = fixture().await;
    let id = &f.id;
    let exp = now() + 3600;
    for (case, aud) in [
        ("aud missing", None),
        ("aud wrong", Some(r#"["someone-else"]"#)),
        ("aud upper case", Some(r#"["FASTAPI-USERS:AUTH"]"#)),
        ("aud other case", Some(r#"["Fastapi-Users:Auth"]"#)),
        ("aud trailing space", Some(r#"["fastapi-users:auth "]"#)),
        ("aud prefix", Some(r#"["fastapi-users"]"#)),
        ("aud reset", Some(r#"["fastapi-users:reset"]"#)),
        ("aud verify", Some(r#"["fastapi-users:verify"]"#)),
        ("aud reset string", Some(r#""fastapi-users:reset""#)),
        (
            "aud reset and verify",
            Some(r#"["fastapi-users:reset","fastapi-users:verify"]"#),
        ),
        ("aud empty list", Some("[]")),
        ("aud empty string", Some(r#""""#)),
        ("aud a number", Some("42")),
        ("aud a list of numbers", Some("[42]")),
        ("aud null", Some("null")),
        ("aud an object", Some(r#"{"aud":"fastapi-users:auth"}"#)),
        ("aud nested list", Some(r#"[["fastapi-users:auth"]]"#)),
    ] {
        let payload = match aud {
            Some(aud) => format!(r#"{{"sub":"{id}","aud":{aud},"exp":{exp}}}"#),
            None => format!(r#"{{"sub":"{id}","exp":{exp}}}"#),
        };
        f.refused(&forge(HEADER, payload), case).await;
    }
}

#[tokio::test]
async fn item_07_reset_and_verify_tokens_are_not_access_tokens() {
    let f = fixture().await;
    for audience in ["fastapi-users:reset", "fastapi-users:verify"] {
        let strategy = JwtStrategy::builder(SECRET, Lifetime::Seconds(3600))
            .audience([audience])
            .build()
            .unwrap();
        let token = strategy.issue(&f.id).unwrap();
        f.refused(
            &token,
            &format!("{audience} token minted with the same secret"),
        )
        .await;
        // Nor the other way round: an access token is not a reset/verify token.
        let access = f.server.login(EMAIL, PASSWORD).await.1["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        f.accepted(&access, "access token").await;
        assert_eq!(
            strategy.verify(&access),
            Err(TokenError::Audience),
            "an access token must not pass as a {audience} token"
        );
    }
}

// ---------------------------------------------------------------------------------
// Item 8: sub names an existing user
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn item_08_sub_must_name_an_existing_user() {
    let f = fixture().await;
    let exp = now() + 3600;
    let nobody = Uuid::new_v4();
    let payload = |sub: &str| format!(r#"{{"sub":{sub},"aud":["{AUD}"],"exp":{exp}}}"#);
    for (case, payload) in [
        ("sub missing", format!(r#"{{"aud":["{AUD}"],"exp":{exp}}}"#)),
        ("sub not a UUID", payload(r#""not-a-uuid""#)),
        ("sub the e-mail", payload(&format!(r#""{EMAIL}""#))),
        ("sub a UUID of no user", payload(&format!(r#""{nobody}""#))),
        (
            "sub the nil UUID",
            payload(&format!(r#""{}""#, Uuid::nil())),
        ),
        ("sub a number", payload("42")),
        ("sub null", payload("null")),
        ("sub empty", payload(r#""""#)),
        ("sub a list", payload(&format!(r#"["{}"]"#, f.id))),
        ("sub an object", payload(&format!(r#"{{"id":"{}"}}"#, f.id))),
        ("sub with a space", payload(&format!(r#"" {}""#, f.id))),
        ("sub with a NUL", payload(&format!(r#""{}\u0000""#, f.id))),
    ] {
        f.refused(&forge(HEADER, payload), case).await;
    }
    // A user deleted after the token was minted.
    let token = forge(HEADER, claims(&f.id));
    f.accepted(&token, "before deletion").await;
    let store = f.server.warden.manager().store();
    store.delete(&f.id.parse().unwrap()).await.unwrap();
    f.refused(&token, "sub of a deleted user").await;
}

// ---------------------------------------------------------------------------------
// Item 9: strict parsing
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn item_09_exactly_three_segments() {
    let f = fixture().await;
    let token = forge(HEADER, claims(&f.id));
    let (header, rest) = token.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let input = format!("{header}.{payload}");
    for (case, forged) in [
        ("four segments", format!("{token}.{signature}")),
        ("four segments, empty last", format!("{token}.")),
        (
            "four segments, signed over three",
            format!("{input}.{payload}.{}", hs256(&format!("{input}.{payload}"))),
        ),
        ("two segments", input.clone()),
        ("two segments, trailing dot", format!("{input}.")),
        ("one segment", header.to_owned()),
        ("five segments", format!("{token}.{payload}.{signature}")),
        ("empty header", format!(".{payload}.{signature}")),
        ("empty payload", format!("{header}..{signature}")),
        ("leading dot", format!(".{token}")),
        ("just dots", "..".to_owned()),
        // A JWE-shaped token (five segments) and JSON serialisation are not accepted.
        (
            "JWE compact",
            format!("{header}.{payload}.{payload}.{payload}.{signature}"),
        ),
    ] {
        f.refused(&forged, case).await;
    }
}

#[tokio::test]
async fn item_09_padding_is_rejected_on_every_segment() {
    let f = fixture().await;
    let payload = unaligned_claims(&f.id);
    let header_b64 = b64(UNALIGNED_HEADER);
    let payload_b64 = b64(&payload);
    let padded_header = URL_SAFE.encode(UNALIGNED_HEADER);
    let padded_payload = URL_SAFE.encode(&payload);
    assert!(padded_header.ends_with('='), "{padded_header}");
    assert!(padded_payload.ends_with("=="), "{padded_payload}");
    // Control: the same unaligned header and payload without padding are fine.
    f.accepted(&sign_segments(&header_b64, &payload_b64), "unpadded")
        .await;
    // Each segment padded in turn, signed over exactly what is sent.
    f.refused(
        &sign_segments(&padded_header, &payload_b64),
        "padded header",
    )
    .await;
    f.refused(
        &sign_segments(&header_b64, &padded_payload),
        "padded payload",
    )
    .await;
    let token = sign_segments(&header_b64, &payload_b64);
    let (input, signature) = token.rsplit_once('.').unwrap();
    let padded_signature = URL_SAFE.encode(URL_SAFE_NO_PAD.decode(signature).unwrap());
    assert!(padded_signature.ends_with('='));
    f.refused(&format!("{input}.{padded_signature}"), "padded signature")
        .await;
    f.refused(&format!("{token}=="), "over-padded signature")
        .await;
    // Padding where none is due.
    let aligned = forge(HEADER, claims(&f.id));
    f.refused(&format!("{aligned}="), "stray = after an aligned token")
        .await;
}

#[tokio::test]
async fn item_09_noncanonical_trailing_bits_are_rejected() {
    let f = fixture().await;
    let payload = unaligned_claims(&f.id);
    let header_b64 = b64(UNALIGNED_HEADER);
    let payload_b64 = b64(&payload);
    let token = sign_segments(&header_b64, &payload_b64);
    f.accepted(&token, "canonical").await;
    let (input, signature) = token.rsplit_once('.').unwrap();
    f.refused(
        &format!("{input}.{}", noncanonical(signature)),
        "signature with non-zero trailing bits",
    )
    .await;
    f.refused(
        &sign_segments(&noncanonical(&header_b64), &payload_b64),
        "header with non-zero trailing bits",
    )
    .await;
    f.refused(
        &sign_segments(&header_b64, &noncanonical(&payload_b64)),
        "payload with non-zero trailing bits",
    )
    .await;
}

#[tokio::test]
async fn item_09_only_the_base64url_alphabet() {
    let f = fixture().await;
    // Find a token whose signature uses `-` or `_`, and spell it with `+` and `/`.
    let (token, standard) = (0..1000)
        .find_map(|n| {
            let token = forge(HEADER, claims_with(&f.id, &format!(r#""n":{n}"#)));
            let (input, signature) = token.rsplit_once('.').unwrap();
            let bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
            let standard = STANDARD_NO_PAD.encode(bytes);
            (standard != signature).then(|| (token.clone(), format!("{input}.{standard}")))
        })
        .unwrap();
    f.accepted(&token, "URL-safe alphabet").await;
    f.refused(&standard, "signature in the standard alphabet")
        .await;
    let (header, rest) = token.split_once('.').unwrap();
    for (case, forged) in [
        ("space inside", format!("{header} .{rest}")),
        ("tab inside", format!("{header}\t.{rest}")),
        ("percent-encoded dot", format!("{header}%2E{rest}")),
        ("trailing comma", format!("{token},")),
    ] {
        f.refused(&forged, case).await;
    }
}

#[tokio::test]
async fn item_09_payload_and_header_must_be_utf8_json_objects() {
    let f = fixture().await;
    let mut non_utf8 = claims_with(&f.id, r#""name":"XX""#).into_bytes();
    let at = non_utf8.windows(2).position(|w| w == b"XX").unwrap();
    non_utf8[at] = 0xFF;
    non_utf8[at + 1] = 0xFE;
    let mut bad_header = HEADER.as_bytes().to_vec();
    bad_header.extend_from_slice(b"\xFF");
    let mut latin1_header = br#"{"alg":"HS256","typ":"JWT","x":"caf"#.to_vec();
    latin1_header.extend_from_slice(b"\xE9\"}");
    let claims = claims(&f.id);
    let cases: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        ("non-UTF-8 payload", HEADER.into(), non_utf8),
        (
            "JSON array payload",
            HEADER.into(),
            format!("[{claims}]").into(),
        ),
        ("JSON string payload", HEADER.into(), br#""sub""#.to_vec()),
        ("JSON null payload", HEADER.into(), b"null".to_vec()),
        ("JSON number payload", HEADER.into(), b"42".to_vec()),
        ("empty payload bytes", HEADER.into(), Vec::new()),
        (
            "trailing data",
            HEADER.into(),
            format!("{claims} {{}}").into(),
        ),
        (
            "two objects",
            HEADER.into(),
            format!("{claims}{claims}").into(),
        ),
        (
            "BOM then object",
            HEADER.into(),
            format!("\u{feff}{claims}").into(),
        ),
        (
            "trailing comma",
            HEADER.into(),
            format!("{},}}", &claims[..claims.len() - 1]).into(),
        ),
        (
            "single quotes",
            HEADER.into(),
            claims.replace('"', "'").into(),
        ),
        (
            "NaN exp",
            HEADER.into(),
            format!(r#"{{"sub":"{}","aud":["{AUD}"],"exp":NaN}}"#, f.id).into(),
        ),
        ("non-UTF-8 header", bad_header, claims.clone().into()),
        ("Latin-1 header", latin1_header, claims.clone().into()),
        (
            "JSON array header",
            br#"[{"alg":"HS256"}]"#.to_vec(),
            claims.clone().into(),
        ),
    ];
    for (case, header, payload) in cases {
        f.refused(&forge(header, payload), case).await;
    }
}

#[tokio::test]
async fn item_09_duplicate_claim_and_header_names_are_rejected() {
    let f = fixture().await;
    let id = &f.id;
    let nobody = Uuid::new_v4();
    let t = now();
    let exp = t + 3600;
    let payloads = [
        (
            "sub twice, same value",
            format!(r#"{{"sub":"{id}","sub":"{id}","aud":["{AUD}"],"exp":{exp}}}"#),
        ),
        (
            "sub twice, the user last",
            format!(r#"{{"sub":"{nobody}","sub":"{id}","aud":["{AUD}"],"exp":{exp}}}"#),
        ),
        (
            "sub twice, the user first",
            format!(r#"{{"sub":"{id}","sub":"{nobody}","aud":["{AUD}"],"exp":{exp}}}"#),
        ),
        (
            "sub twice, once escaped",
            format!(r#"{{"sub":"{nobody}","s\u0075b":"{id}","aud":["{AUD}"],"exp":{exp}}}"#),
        ),
        (
            "exp twice, past then future",
            format!(
                r#"{{"sub":"{id}","aud":["{AUD}"],"exp":{},"exp":{exp}}}"#,
                t - 60
            ),
        ),
        (
            "aud twice",
            format!(
                r#"{{"sub":"{id}","aud":["fastapi-users:reset"],"aud":["{AUD}"],"exp":{exp}}}"#
            ),
        ),
        (
            "duplicate inside a nested claim",
            claims_with(id, r#""x":{"a":1,"a":2}"#),
        ),
    ];
    for (case, payload) in &payloads {
        f.refused(&forge(HEADER, payload), case).await;
    }
    for header in [
        r#"{"alg":"HS256","alg":"HS256","typ":"JWT"}"#,
        r#"{"alg":"none","alg":"HS256","typ":"JWT"}"#,
        r#"{"alg":"HS256","alg":"none","typ":"JWT"}"#,
        r#"{"alg":"HS256","typ":"JWT","typ":"JWT"}"#,
        r#"{"alg":"HS256","\u0061lg":"HS256"}"#,
    ] {
        f.refused(&forge(header, claims(id)), header).await;
    }
}

#[tokio::test]
async fn item_09_crit_header_is_rejected() {
    let f = fixture().await;
    for header in [
        r#"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#,
        r#"{"alg":"HS256","typ":"JWT","crit":["b64"],"b64":false}"#,
        r#"{"alg":"HS256","typ":"JWT","crit":[]}"#,
        r#"{"alg":"HS256","typ":"JWT","crit":"exp"}"#,
        r#"{"alg":"HS256","typ":"JWT","crit":null}"#,
        r#"{"alg":"HS256","typ":"JWT","crit":["http://example.com/ext"],"http://example.com/ext":true}"#,
    ] {
        f.refused(&forge(header, claims(&f.id)), header).await;
    }
}

// ---------------------------------------------------------------------------------
// Item 10: hostile input stays cheap
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn item_10_one_megabyte_token_gets_a_quick_4xx_and_the_server_survives() {
    let f = fixture().await;
    let huge = format!(
        "{}.{}.{}",
        "a".repeat(350_000),
        "b".repeat(350_000),
        "c".repeat(348_576)
    );
    assert_eq!(huge.len(), 1_048_578);
    let request = raw_me_request(&format!("Authorization: Bearer {huge}\r\n"));
    let (answer, elapsed) = timed(raw_exchange(&f.server.base, request)).await;
    assert!(elapsed < QUICK, "a 1 MB header took {elapsed:?}");
    let (status, response) = answer.expect("the server must answer a 1 MB header");
    assert!(
        (400..500).contains(&status),
        "a 1 MB token must be a 4xx: {}",
        &response[..response.len().min(300)]
    );
    // The server still serves.
    f.accepted(&forge(HEADER, claims(&f.id)), "the next request")
        .await;
}

#[tokio::test]
async fn item_10_oversized_tokens_under_the_http_limit_are_refused_quickly() {
    let f = fixture().await;
    // Well-formed, correctly signed, just enormous: the size cap, not the parser or
    // the MAC, must refuse these.
    for size in [16 * 1024, 64 * 1024, 256 * 1024] {
        let filler = "x".repeat(size);
        let token = forge(HEADER, claims_with(&f.id, &format!(r#""pad":"{filler}""#)));
        f.refused_quickly(&token, &format!("{size}-byte claim"))
            .await;
    }
    let strategy = JwtStrategy::builder(SECRET, Lifetime::Seconds(60))
        .build()
        .unwrap();
    let huge = forge(
        HEADER,
        claims_with(&f.id, &format!(r#""pad":"{}""#, "x".repeat(1 << 20))),
    );
    let (result, elapsed) = timed(async { strategy.verify(&huge) }).await;
    assert_eq!(result, Err(TokenError::TooLarge));
    assert!(elapsed < QUICK, "{elapsed:?}");
}

#[tokio::test]
async fn item_10_ten_thousand_segments_are_refused_quickly() {
    let f = fixture().await;
    let token = forge(HEADER, claims(&f.id));
    let (_, signature) = token.rsplit_once('.').unwrap();
    for (case, forged) in [
        ("10,000 segments of a", vec!["a"; 10_000].join(".")),
        ("10,000 empty segments", ".".repeat(9_999)),
        (
            "a valid token followed by 9,997 signatures",
            format!("{token}{}", format!(".{signature}").repeat(9_997)),
        ),
    ] {
        assert!(forged.split('.').count() >= 10_000, "{case}");
        f.refused_quickly(&forged, case).await;
    }
}

#[tokio::test]
async fn item_10_deeply_nested_json_is_refused_quickly() {
    let f = fixture().await;
    let strategy = JwtStrategy::builder(SECRET, Lifetime::Seconds(60))
        .build()
        .unwrap();
    // Control: a modestly nested claim is fine, so only depth is on trial below.
    let shallow = forge(
        HEADER,
        claims_with(
            &f.id,
            &format!(r#""x":{}0{}"#, "[".repeat(10), "]".repeat(10)),
        ),
    );
    f.accepted(&shallow, "10 levels").await;
    for depth in [2_500, 10_000] {
        let arrays = format!("{}0{}", "[".repeat(depth), "]".repeat(depth));
        let objects = format!("{}0{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        for (shape, nested) in [("arrays", &arrays), ("objects", &objects)] {
            let case = format!("{depth} levels of {shape} in a claim");
            let token = forge(HEADER, claims_with(&f.id, &format!(r#""x":{nested}"#)));
            f.refused_quickly(&token, &case).await;
            let (result, elapsed) = timed(async { strategy.verify(&token) }).await;
            assert!(result.is_err(), "{case}");
            assert!(elapsed < QUICK, "{case}: {elapsed:?}");
            let header = format!(r#"{{"alg":"HS256","x":{nested}}}"#);
            let token = forge(&header, claims(&f.id));
            f.refused_quickly(&token, &format!("{depth} levels of {shape} in the header"))
                .await;
        }
    }
    // 2,500 levels fit under any sane size cap: the parser's depth limit refuses it.
    let nested = format!("{}0{}", "[".repeat(2_500), "]".repeat(2_500));
    let token = forge(HEADER, claims_with(&f.id, &format!(r#""x":{nested}"#)));
    assert!(token.len() < 8 * 1024, "{}", token.len());
    assert!(
        matches!(strategy.verify(&token), Err(TokenError::Malformed(_))),
        "{:?}",
        strategy.verify(&token)
    );
}

// ---------------------------------------------------------------------------------
// Item 11: exactly one Authorization: Bearer header
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn item_11_token_in_the_query_string_is_ignored() {
    let f = fixture().await;
    let token = forge(HEADER, claims(&f.id));
    f.accepted(&token, "header").await;
    for parameter in ["access_token", "token", "jwt", "authorization"] {
        let response = f
            .server
            .client
            .get(f.server.url(&format!("/users/me?{parameter}={token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "?{parameter}=");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({"detail": "Unauthorized"}));
    }
    // Nor in a form body.
    let response = f
        .server
        .client
        .get(f.server.url("/users/me"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn item_11_two_authorization_headers_are_rejected() {
    let f = fixture().await;
    let token = forge(HEADER, claims(&f.id));
    let garbage = "not.a.token";
    let (status, response) = raw_exchange(
        &f.server.base,
        raw_me_request(&format!("Authorization: Bearer {token}\r\n")),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "control, one header: {response}");
    for (case, lines) in [
        (
            "the same token twice",
            format!("Authorization: Bearer {token}\r\nAuthorization: Bearer {token}\r\n"),
        ),
        (
            "valid then garbage",
            format!("Authorization: Bearer {token}\r\nAuthorization: Bearer {garbage}\r\n"),
        ),
        (
            "garbage then valid",
            format!("Authorization: Bearer {garbage}\r\nAuthorization: Bearer {token}\r\n"),
        ),
        (
            "valid then another scheme",
            format!("Authorization: Bearer {token}\r\nauthorization: Basic dXNlcjpwYXNz\r\n"),
        ),
    ] {
        let (status, response) = raw_exchange(&f.server.base, raw_me_request(&lines))
            .await
            .unwrap();
        assert_eq!(status, 401, "{case}: {response}");
        assert_eq!(
            raw_body(&response),
            json!({"detail": "Unauthorized"}),
            "{case}"
        );
        // Two headers are no credential at all: nothing is read (RFC 6750 §3.1).
        assert_eq!(
            raw_challenge(&response),
            Some(common::NO_CREDENTIAL),
            "{case}: {response}"
        );
    }
    // One header whose value is a comma-joined list is one credential, refused.
    let (status, response) = raw_exchange(
        &f.server.base,
        raw_me_request(&format!(
            "Authorization: Bearer {token}, Bearer {token}\r\n"
        )),
    )
    .await
    .unwrap();
    assert_eq!(status, 401, "a comma-joined list: {response}");
    assert_eq!(raw_body(&response), json!({"detail": "Unauthorized"}));
    assert_eq!(raw_challenge(&response), Some(common::INVALID_TOKEN));
}

#[tokio::test]
async fn item_11_bearer_scheme_is_case_insensitive_and_required() {
    let f = fixture().await;
    let token = forge(HEADER, claims(&f.id));
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let response = f
            .server
            .client
            .get(f.server.url("/users/me"))
            .header("authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "scheme {scheme}");
    }
    for value in [
        token.clone(),
        format!("Basic {token}"),
        format!("Token {token}"),
        format!("JWT {token}"),
        format!("Bearer:{token}"),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
    ] {
        let response = f
            .server
            .client
            .get(f.server.url("/users/me"))
            .header("authorization", &value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{value:.20}");
    }
}
