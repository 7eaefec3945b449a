//! A software WebAuthn authenticator for HTTP-level passkey tests: P-256 keys
//! (ES256), "none" attestation, and the `PublicKeyCredential.toJSON()` shapes a
//! browser sends (WebAuthn Level 3 §5.1.8, base64url strings). Its flags (user
//! verification, backup eligibility and state), counter, origin and RP ID are
//! settable, so a test can make each refusal happen.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciborium::value::Value as Cbor;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// One credential on a software authenticator.
pub struct Authenticator {
    key: SigningKey,
    /// The credential id.
    pub credential_id: Vec<u8>,
    /// The signature counter of the next assertion (0: a passkey without one).
    pub counter: u32,
    /// Whether it says the user was verified (the UV flag).
    pub user_verified: bool,
    /// The backup-eligible flag (a synced passkey).
    pub backup_eligible: bool,
    /// The origin its client data names.
    pub origin: String,
    /// The RP ID it signs for (`None`: the options').
    pub rp_id: Option<String>,
    /// The user handle it stored at creation.
    pub user_handle: Option<String>,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn bytes(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).unwrap()
}

impl Authenticator {
    /// A new credential, used from `origin`.
    pub fn new(origin: &str) -> Self {
        let mut seed = [0u8; 32];
        seed[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        seed[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        let key = SigningKey::from_slice(&Sha256::digest(seed)).unwrap();
        Self {
            key,
            credential_id: uuid::Uuid::new_v4().as_bytes().to_vec(),
            counter: 0,
            user_verified: true,
            backup_eligible: false,
            origin: origin.to_owned(),
            rp_id: None,
            user_handle: None,
        }
    }

    /// The credential id as the routes name it.
    pub fn id(&self) -> String {
        b64(&self.credential_id)
    }

    fn flags(&self, attested: bool) -> u8 {
        let mut flags = 0x01; // UP
        if self.user_verified {
            flags |= 0x04;
        }
        if self.backup_eligible {
            flags |= 0x08 | 0x10; // BE, BS
        }
        if attested {
            flags |= 0x40;
        }
        flags
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    fn rp_hash(&self, options_rp_id: &str) -> Vec<u8> {
        let rp_id = self.rp_id.as_deref().unwrap_or(options_rp_id);
        Sha256::digest(rp_id.as_bytes()).to_vec()
    }

    /// `navigator.credentials.create({publicKey})` answered: the `toJSON()` output
    /// for creation `options` (`{"publicKey": ...}`).
    pub fn create(&mut self, options: &Value) -> Value {
        let public_key = &options["publicKey"];
        let challenge = public_key["challenge"].as_str().unwrap();
        let rp_id = public_key["rp"]["id"].as_str().unwrap();
        self.user_handle = public_key["user"]["id"].as_str().map(str::to_owned);
        let point = self.key.verifying_key().to_encoded_point(false);
        let cose = Cbor::Map(vec![
            (Cbor::Integer(1.into()), Cbor::Integer(2.into())),
            (Cbor::Integer(3.into()), Cbor::Integer((-7).into())),
            (Cbor::Integer((-1).into()), Cbor::Integer(1.into())),
            (
                Cbor::Integer((-2).into()),
                Cbor::Bytes(point.x().unwrap().to_vec()),
            ),
            (
                Cbor::Integer((-3).into()),
                Cbor::Bytes(point.y().unwrap().to_vec()),
            ),
        ]);
        let mut cose_bytes = Vec::new();
        ciborium::into_writer(&cose, &mut cose_bytes).unwrap();
        let mut auth_data = self.rp_hash(rp_id);
        auth_data.push(self.flags(true));
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        auth_data.extend_from_slice(&[0u8; 16]); // AAGUID
        auth_data.extend_from_slice(
            &u16::try_from(self.credential_id.len())
                .unwrap()
                .to_be_bytes(),
        );
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&cose_bytes);
        let attestation = Cbor::Map(vec![
            (Cbor::Text("fmt".into()), Cbor::Text("none".into())),
            (Cbor::Text("attStmt".into()), Cbor::Map(Vec::new())),
            (
                Cbor::Text("authData".into()),
                Cbor::Bytes(auth_data.clone()),
            ),
        ]);
        let mut attestation_bytes = Vec::new();
        ciborium::into_writer(&attestation, &mut attestation_bytes).unwrap();
        let id = self.id();
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(&self.client_data("webauthn.create", challenge)),
                "attestationObject": b64(&attestation_bytes),
                "authenticatorData": b64(&auth_data),
                "transports": ["internal"],
                "publicKeyAlgorithm": -7,
            },
        })
    }

    /// `navigator.credentials.get({publicKey})` answered: the `toJSON()` output for
    /// request `options`; a counting authenticator moves its counter on by one first.
    pub fn get(&mut self, options: &Value) -> Value {
        let public_key = &options["publicKey"];
        let challenge = public_key["challenge"].as_str().unwrap();
        let rp_id = public_key["rpId"].as_str().unwrap();
        let client_data = self.client_data("webauthn.get", challenge);
        if self.counter > 0 {
            self.counter += 1;
        }
        let mut auth_data = self.rp_hash(rp_id);
        auth_data.push(self.flags(false));
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature: DerSignature = self.key.sign(&signed);
        let id = self.id();
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(&client_data),
                "authenticatorData": b64(&auth_data),
                "signature": b64(signature.as_bytes()),
                "userHandle": self.user_handle.as_deref().map(|h| b64(&bytes(h))),
            },
        })
    }
}
