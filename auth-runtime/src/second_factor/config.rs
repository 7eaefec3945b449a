//! How an application configures its second factor: [`TwoFactor`] and
//! [`TwoFactorPolicy`].

use crate::token::Secret;

/// Whose sign-ins must have a second factor.
///
/// ```
/// use warden_runtime::second_factor::TwoFactorPolicy;
/// assert_eq!(TwoFactorPolicy::default(), TwoFactorPolicy::Optional);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TwoFactorPolicy {
    /// Users choose: those who turned it on are asked for a code at every sign-in.
    #[default]
    Optional,
    /// Superusers must have it (ASVS 5.0 6.3.3 asks it of administrative
    /// interfaces); others choose.
    Superusers,
    /// Everyone must have it.
    Everyone,
}

/// The second factor: time-based one-time passwords (RFC 6238) from an
/// authenticator app, with single-use recovery codes.
///
/// The TOTP secrets are encrypted at rest (AES-256-GCM) and the recovery codes
/// stored as keyed hashes, with keys derived from [`secret`](Self::secret): keep
/// that secret stable, since a lost one disables every user's authenticator (rotate
/// with [`previous_secret`](Self::previous_secret)).
///
/// ```
/// use warden_runtime::second_factor::{TwoFactor, TwoFactorPolicy};
/// let two_factor = TwoFactor::totp("MyApp")
///     .secret("a-secret-of-at-least-thirty-two-bytes!")
///     .policy(TwoFactorPolicy::Superusers)
///     .remember_device(30);
/// # let _ = two_factor;
/// ```
#[derive(Clone)]
pub struct TwoFactor {
    pub(crate) issuer: String,
    pub(crate) secret: Option<Secret>,
    pub(crate) previous: Vec<Secret>,
    pub(crate) policy: TwoFactorPolicy,
    pub(crate) remember_days: Option<u32>,
    pub(crate) acr: String,
    pub(crate) provider_mfa: bool,
    pub(crate) cookie_secure: bool,
}

impl std::fmt::Debug for TwoFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwoFactor")
            .field("issuer", &self.issuer)
            .field("policy", &self.policy)
            .field("remember_days", &self.remember_days)
            .field("acr", &self.acr)
            .field("provider_mfa", &self.provider_mfa)
            .finish_non_exhaustive()
    }
}

/// The `acr` value of a session that passed a second factor, unless configured:
/// the multi-factor policy URI OpenID providers (Auth0, Okta) use for it.
pub const DEFAULT_ACR: &str = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";

impl TwoFactor {
    /// TOTP with `issuer` as the name authenticator apps show (the `otpauth://`
    /// URI's issuer), SHA-1, 6 digits, 30 seconds: what every app reads.
    pub fn totp(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            secret: None,
            previous: Vec::new(),
            policy: TwoFactorPolicy::Optional,
            remember_days: None,
            acr: DEFAULT_ACR.to_owned(),
            provider_mfa: true,
            cookie_secure: true,
        }
    }

    /// The secret (32 bytes or more) the encryption key of the TOTP secrets and the
    /// recovery codes' hash key derive from (HKDF, a label each). Required.
    #[must_use]
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// A secret rotated out: what it sealed still opens (each sealed secret names
    /// its key), and is sealed anew with the current one when next confirmed.
    #[must_use]
    pub fn previous_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.previous.push(secret.into());
        self
    }

    /// Whose sign-ins must have a second factor; [`TwoFactorPolicy::Optional`] by
    /// default. A required user without one who signs in gets a session that may
    /// only enrol (`POST /users/me/2fa/totp`, `.../confirm`), read `GET /users/me`
    /// and `GET /users/me/2fa`, and log out; every other route, the application's
    /// guarded ones included, answers 403 `TWO_FACTOR_ENROLMENT_REQUIRED`.
    #[must_use]
    pub fn policy(mut self, policy: TwoFactorPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// "Remember this device" for `days`: a second step that asks for it
    /// (`"remember_device": true`) on a cookie backend leaves a signed cookie, and
    /// the user's next password sign-ins from that browser skip the code. Ended by
    /// turning 2FA off, a password change or reset, "log out everywhere" and
    /// `POST /users/me/2fa/forget-devices`. Off by default.
    #[must_use]
    pub fn remember_device(mut self, days: u32) -> Self {
        self.remember_days = Some(days);
        self
    }

    /// The `acr` value (OpenID Connect Core §2) of sessions that passed a second
    /// factor: tokens carry it, and `mfa` guards name it in their challenge's
    /// `acr_values` (RFC 9470). [`DEFAULT_ACR`] unless set.
    #[must_use]
    pub fn acr(mut self, value: impl Into<String>) -> Self {
        self.acr = value.into();
        self
    }

    /// Whether an identity provider whose ID token says it did multi-factor
    /// authentication (`amr` holding `mfa`) satisfies the second factor; `true` by
    /// default. With `false` every provider sign-in of a user with 2FA asks for a
    /// code.
    #[must_use]
    pub fn trust_provider_mfa(mut self, trust: bool) -> Self {
        self.provider_mfa = trust;
        self
    }

    /// Whether the second step's binding cookie and the remembered-device cookie
    /// are `Secure` (and so `__Host-` prefixed); `true` by default. Turn it off
    /// only for plain-HTTP development.
    #[must_use]
    pub fn cookie_secure(mut self, secure: bool) -> Self {
        self.cookie_secure = secure;
        self
    }
}
