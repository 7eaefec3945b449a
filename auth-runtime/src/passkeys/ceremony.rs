//! The ceremonies: options for the browser, state for the store, and the checks
//! of what the browser sends back.
//!
//! A ceremony's state is stored under a hash of its challenge, and a finishing
//! request names its ceremony by the challenge inside its own signed
//! `clientDataJSON`: no cookie or id travels beside the credential, and the state
//! never leaves the server (webauthn-rs: "you must store the state server side").

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use webauthn_rs::prelude::{
    AuthenticationResult, CredentialID, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Uuid, WebauthnError,
};

use super::PasskeyService;

/// The stored kind of a ceremony.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A signed-in user adds a passkey.
    Register,
    /// A sign-in.
    Login,
    /// An account is created from a passkey.
    Signup,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Login => "login",
            Self::Signup => "signup",
        }
    }
}

/// What the store keeps of a ceremony (serialised; never sent).
#[derive(Serialize, Deserialize)]
#[serde(tag = "t")]
enum State {
    Register {
        s: PasskeyRegistration,
    },
    Login {
        s: PasskeyAuthentication,
    },
    Discoverable {
        s: DiscoverableAuthentication,
    },
    /// Options for a login with no passkey: no credential can finish it.
    Decoy,
    Signup {
        s: PasskeyRegistration,
        /// The registration body, read again once the passkey is proved.
        fields: Map<String, Value>,
        /// The new user's WebAuthn user handle.
        handle: String,
    },
}

/// What a sign-up's ceremony kept: the registration body and the user handle.
pub(crate) type Signup = (Map<String, Value>, String);

/// A ceremony begun: the options for the browser, the state to store, and the
/// key it is stored under.
pub(crate) struct Begun {
    pub(crate) options: Value,
    pub(crate) state: String,
    pub(crate) key: String,
}

/// What a sign-in's options are for.
pub(crate) enum LoginStart<'a> {
    /// The user's passkeys.
    Passkeys(&'a [Passkey]),
    /// An unknown login, or a user without passkeys: options that look like a
    /// real user's, with credential ids derived from the login.
    Decoy(&'a str),
    /// No login: the browser offers the site's discoverable credentials.
    Discoverable,
}

/// A finished sign-in's proof.
pub(crate) struct Finished {
    pub(crate) result: AuthenticationResult,
}

/// Why a ceremony's answer is refused; each has its own error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CeremonyError {
    /// No such ceremony: unknown, used, expired, or of another kind.
    Challenge,
    /// `clientDataJSON.origin` is none of the configured origins.
    Origin,
    /// The authenticator signed for another RP ID.
    RpId,
    /// The authenticator did not verify the user (no PIN or biometric).
    UserVerification,
    /// The signature counter did not move forward: a cloned authenticator
    /// (WebAuthn Level 3 §6.1.1).
    Counter,
    /// Anything else: a bad signature, a credential the ceremony did not offer, a
    /// malformed credential.
    Invalid,
}

impl From<WebauthnError> for CeremonyError {
    fn from(error: WebauthnError) -> Self {
        match error {
            WebauthnError::InvalidRPOrigin => Self::Origin,
            WebauthnError::InvalidRPIDHash => Self::RpId,
            WebauthnError::UserNotVerified => Self::UserVerification,
            WebauthnError::MismatchedChallenge | WebauthnError::ChallengeNotFound => {
                Self::Challenge
            }
            WebauthnError::CredentialPossibleCompromise => Self::Counter,
            other => {
                tracing::debug!(error = %other, "passkey refused");
                Self::Invalid
            }
        }
    }
}

/// The store key of the ceremony whose challenge is `challenge` (base64url).
fn key_of(challenge: &str) -> String {
    crate::store::token_hash(challenge.trim_end_matches('='))
}

/// The store key of the ceremony a credential (`toJSON()` output) answers: the
/// challenge in its `clientDataJSON`. `None` for a malformed credential.
pub(crate) fn challenge_key(credential: &Value) -> Option<String> {
    let data = credential
        .get("response")?
        .get("clientDataJSON")?
        .as_str()?;
    let bytes = decode(data)?;
    let client: Value = serde_json::from_slice(&bytes).ok()?;
    Some(key_of(client.get("challenge")?.as_str()?))
}

/// base64url, padded or not (`toJSON()` writes it unpadded).
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// A passkey as stored, and the credential id that names it.
pub(crate) fn passkey_json(passkey: &Passkey) -> Option<(String, String, bool)> {
    let id = URL_SAFE_NO_PAD.encode(passkey.cred_id().as_slice());
    let value = serde_json::to_value(passkey).ok()?;
    let backed_up = value["cred"]["backup_state"].as_bool().unwrap_or(false);
    Some((id, value.to_string(), backed_up))
}

/// The signature counter of a stored passkey.
pub(crate) fn counter_of(passkey: &Passkey) -> u32 {
    serde_json::to_value(passkey)
        .ok()
        .and_then(|value| value["cred"]["counter"].as_u64())
        .and_then(|counter| u32::try_from(counter).ok())
        .unwrap_or(0)
}

fn store(state: &State) -> Result<String, CeremonyError> {
    serde_json::to_string(state).map_err(|_| CeremonyError::Invalid)
}

fn load(state: &str) -> Result<State, CeremonyError> {
    serde_json::from_str(state).map_err(|_| CeremonyError::Challenge)
}

/// The options as JSON and the key of their challenge.
fn begun(options: Value, state: &State) -> Result<Begun, CeremonyError> {
    let challenge = options["publicKey"]["challenge"]
        .as_str()
        .ok_or(CeremonyError::Invalid)?;
    Ok(Begun {
        key: key_of(challenge),
        state: store(state)?,
        options,
    })
}

fn parse<T: for<'de> Deserialize<'de>>(credential: &Value) -> Result<T, CeremonyError> {
    T::deserialize(credential).map_err(|_| CeremonyError::Invalid)
}

impl PasskeyService {
    /// Creation options for `handle`'s user, named `name` to the authenticator,
    /// excluding `exclude` (their passkeys: one authenticator, one passkey each).
    /// `signup` carries what a sign-up registers once the passkey is proved.
    pub(crate) fn begin_register(
        &self,
        handle: Uuid,
        name: &str,
        exclude: Vec<CredentialID>,
        signup: Option<Map<String, Value>>,
    ) -> Result<Begun, CeremonyError> {
        let exclude = (!exclude.is_empty()).then_some(exclude);
        let (options, registration) = self
            .webauthn
            .start_passkey_registration(handle, name, name, exclude)
            .map_err(CeremonyError::from)?;
        let mut options = serde_json::to_value(options).map_err(|_| CeremonyError::Invalid)?;
        if self.discoverable {
            // A passkey that is to be found without a login must be kept on the
            // authenticator (a discoverable credential).
            options["publicKey"]["authenticatorSelection"]["residentKey"] = json!("preferred");
        }
        let state = match signup {
            Some(fields) => State::Signup {
                s: registration,
                fields,
                handle: handle.to_string(),
            },
            None => State::Register { s: registration },
        };
        begun(options, &state)
    }

    /// The passkey a registration ceremony's answer proves; for a sign-up, also
    /// the registration body and the user handle.
    pub(crate) fn finish_register(
        &self,
        state: &str,
        credential: &Value,
    ) -> Result<(Passkey, Option<Signup>), CeremonyError> {
        let credential: RegisterPublicKeyCredential = parse(credential)?;
        let (registration, signup) = match load(state)? {
            State::Register { s } => (s, None),
            State::Signup { s, fields, handle } => (s, Some((fields, handle))),
            _ => return Err(CeremonyError::Challenge),
        };
        let passkey = self
            .webauthn
            .finish_passkey_registration(&credential, &registration)?;
        Ok((passkey, signup))
    }

    /// Request options for a sign-in.
    pub(crate) fn begin_login(&self, start: LoginStart<'_>) -> Result<Begun, CeremonyError> {
        match start {
            LoginStart::Passkeys(passkeys) => {
                let (options, state) = self.webauthn.start_passkey_authentication(passkeys)?;
                let options = serde_json::to_value(options).map_err(|_| CeremonyError::Invalid)?;
                begun(options, &State::Login { s: state })
            }
            LoginStart::Discoverable => {
                let (options, state) = self.webauthn.start_discoverable_authentication()?;
                let options = serde_json::to_value(options).map_err(|_| CeremonyError::Invalid)?;
                begun(options, &State::Discoverable { s: state })
            }
            LoginStart::Decoy(login) => {
                // The same call's options, made to look like a user's: no
                // conditional mediation, no extensions, credential ids derived
                // from the login (stable across requests and instances).
                let (options, _) = self.webauthn.start_discoverable_authentication()?;
                let mut options =
                    serde_json::to_value(options).map_err(|_| CeremonyError::Invalid)?;
                if let Some(options) = options.as_object_mut() {
                    options.remove("mediation");
                }
                if let Some(public_key) = options["publicKey"].as_object_mut() {
                    public_key.remove("extensions");
                    public_key.insert("allowCredentials".into(), Value::from(self.decoys(login)));
                }
                begun(options, &State::Decoy)
            }
        }
    }

    /// One or two credential ids derived from `login` (HMAC-SHA256 under the
    /// decoy key), as `allowCredentials` entries.
    fn decoys(&self, login: &str) -> Vec<Value> {
        let Ok(key) = <Hmac<Sha256> as Mac>::new_from_slice(self.decoy_key.expose()) else {
            return Vec::new();
        };
        let mac = |index: u8| {
            let mut mac = key.clone();
            mac.update(login.to_lowercase().as_bytes());
            mac.update(&[0, index]);
            mac.finalize().into_bytes()
        };
        let count = 1 + (mac(0)[0] & 1);
        (1..=count)
            .map(|index| {
                let id = URL_SAFE_NO_PAD.encode(mac(index));
                json!({"type": "public-key", "id": id, "transports": ["hybrid", "internal"]})
            })
            .collect()
    }

    /// Checks a sign-in's answer against its ceremony and the stored passkey it
    /// names (`user_handle`: the user the stored passkey's owner is known by, for
    /// a discoverable credential).
    pub(crate) fn finish_login(
        &self,
        state: &str,
        credential: &Value,
        stored: &Passkey,
        user_handle: Option<&str>,
    ) -> Result<Finished, CeremonyError> {
        let credential: PublicKeyCredential = parse(credential)?;
        let result = match load(state)? {
            State::Login { s } => self
                .webauthn
                .finish_passkey_authentication(&credential, &s)?,
            State::Discoverable { s } => {
                let (handle, _) = self
                    .webauthn
                    .identify_discoverable_authentication(&credential)
                    .map_err(|_| CeremonyError::Invalid)?;
                // The authenticator names the account: it must be the passkey's.
                if user_handle != Some(handle.to_string().as_str()) {
                    return Err(CeremonyError::Invalid);
                }
                self.webauthn
                    .finish_discoverable_authentication_v2(&credential, s, stored)?
            }
            State::Decoy => return Err(CeremonyError::Invalid),
            State::Register { .. } | State::Signup { .. } => return Err(CeremonyError::Challenge),
        };
        // The state holds the passkeys as they were when the options were made; a
        // sign-in since may have moved the stored counter on (§6.1.1: a counter
        // that does not grow means a cloned authenticator).
        let stored_counter = counter_of(stored);
        if (result.counter() > 0 || stored_counter > 0) && result.counter() <= stored_counter {
            return Err(CeremonyError::Counter);
        }
        Ok(Finished { result })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passkeys::Passkeys;

    fn service() -> PasskeyService {
        Passkeys::new("example.com", ["https://example.com"], "Example")
            .secret("a-secret-of-at-least-thirty-two-bytes!")
            .service()
            .unwrap()
    }

    #[test]
    fn decoys_are_stable_per_login_and_look_like_a_users_options() {
        let service = service();
        let one = service
            .begin_login(LoginStart::Decoy("nobody@example.com"))
            .unwrap();
        let again = service
            .begin_login(LoginStart::Decoy("Nobody@example.com"))
            .unwrap();
        let other = service
            .begin_login(LoginStart::Decoy("else@example.com"))
            .unwrap();
        let ids = |begun: &Begun| begun.options["publicKey"]["allowCredentials"].clone();
        assert_eq!(ids(&one), ids(&again));
        assert_ne!(ids(&one), ids(&other));
        assert_ne!(one.key, again.key, "a new challenge each time");
        let public_key = one.options["publicKey"].as_object().unwrap();
        let mut fields: Vec<&str> = public_key.keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "allowCredentials",
                "challenge",
                "rpId",
                "timeout",
                "userVerification"
            ]
        );
        assert_eq!(one.options.as_object().unwrap().len(), 1, "{}", one.options);
        assert_eq!(public_key["userVerification"], "required");
    }

    #[test]
    fn registration_options_require_user_verification_and_exclude() {
        let service = service();
        let begun = service
            .begin_register(Uuid::new_v4(), "ada", Vec::new(), None)
            .unwrap();
        let public_key = &begun.options["publicKey"];
        assert_eq!(
            public_key["authenticatorSelection"]["userVerification"],
            "required"
        );
        assert_eq!(public_key["rp"]["id"], "example.com");
        assert!(public_key["challenge"].is_string());
        assert!(!begun.state.is_empty());
        let client = json!({"challenge": public_key["challenge"], "type": "webauthn.create"});
        let credential =
            json!({"response": {"clientDataJSON": URL_SAFE_NO_PAD.encode(client.to_string())}});
        assert_eq!(challenge_key(&credential), Some(begun.key));
        assert_eq!(challenge_key(&json!({"response": {}})), None);
        assert_eq!(
            challenge_key(&json!({"response": {"clientDataJSON": "!!"}})),
            None
        );
    }
}
