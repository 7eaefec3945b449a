//! Users: the record FastAPI Users stores, and the registration payload.

use warden_macros::user_model;

/// A user with FastAPI Users' columns and nothing more: the model of applications
/// that declare none of their own.
///
/// Serialises as FastAPI Users' `UserRead`: `{id, email, is_active, is_superuser,
/// is_verified}`. The password hash is never serialised, and `Debug` redacts it.
#[user_model(crate = crate)]
pub struct User {}

/// A registration: FastAPI Users' `UserCreate` (e-mail, password, flags) plus the
/// model's own extra fields (`()` for [`User`]; a `login = username` model's
/// username is one of them). The flags are ignored on public registration, as
/// FastAPI Users does (`safe=True`).
///
/// ```
/// use warden_runtime::UserCreate;
/// let create = UserCreate::new("a long password", ()).with_email("ann@example.com");
/// assert_eq!(create.email.as_deref(), Some("ann@example.com"));
/// ```
#[derive(Clone)]
pub struct UserCreate<X = ()> {
    /// The e-mail as submitted, normalised by [`normalize_email`]; required by a model
    /// with an e-mail, ignored by one without.
    pub email: Option<String>,
    /// The password as typed.
    pub password: String,
    /// Ignored on public registration.
    pub is_active: Option<bool>,
    /// Ignored on public registration.
    pub is_superuser: Option<bool>,
    /// Ignored on public registration.
    pub is_verified: Option<bool>,
    /// The model's extra fields (`UserModel::Create`).
    pub extra: X,
}

impl<X> UserCreate<X> {
    /// A registration of `password` and the model's extra fields, without an e-mail
    /// and with default flags (active, not superuser, not verified).
    pub fn new(password: impl Into<String>, extra: X) -> Self {
        Self {
            email: None,
            password: password.into(),
            is_active: None,
            is_superuser: None,
            is_verified: None,
            extra,
        }
    }

    /// The same registration with this e-mail.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// The same registration of a superuser (active and verified): kept by
    /// [`UserManager::seed`](crate::UserManager::seed), ignored by public registration.
    #[must_use]
    pub fn superuser(mut self) -> Self {
        self.is_active = Some(true);
        self.is_superuser = Some(true);
        self.is_verified = Some(true);
        self
    }
}

impl<X: std::fmt::Debug> std::fmt::Debug for UserCreate<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCreate")
            .field("email", &self.email)
            .field("password", &"[REDACTED]")
            .field("extra", &self.extra)
            .finish_non_exhaustive()
    }
}

/// Longest username accepted (Django's and most forums' limit).
pub const MAX_USERNAME_LEN: usize = 150;

/// Checks a username (the login of a `login = username` model): 1 to 150 ASCII
/// letters, digits, `.`, `_` and `-`. ASCII so that "the same username, ignoring
/// case" means one thing in every database (SQLite's `lower()` folds ASCII only)
/// and a look-alike (Cyrillic `а` for Latin `a`) cannot pass for another user.
/// Case is kept; uniqueness and login ignore it.
///
/// ```
/// use warden_runtime::user::check_username;
/// assert!(check_username("Arthur_2").is_ok());
/// assert!(check_username("аrthur").is_err()); // Cyrillic а
/// assert!(check_username("").is_err());
/// ```
pub fn check_username(username: &str) -> Result<(), &'static str> {
    if username.is_empty() {
        return Err("A username needs at least 1 character");
    }
    if username.len() > MAX_USERNAME_LEN {
        return Err("A username has at most 150 characters");
    }
    if !username
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err("A username has only letters a-z, digits, '.', '_' and '-'");
    }
    Ok(())
}

/// Longest e-mail accepted: FastAPI Users' column is `String(320)`.
pub const MAX_EMAIL_LEN: usize = 320;

/// Special-use domains that email-validator (FastAPI Users' `EmailStr`) refuses.
const SPECIAL_USE_TLDS: [&str; 6] = ["test", "local", "localhost", "invalid", "onion", "arpa"];

/// Validates an e-mail the way FastAPI Users' `EmailStr` (email-validator) does,
/// without a deliverability check, and normalises it as email-validator does: the
/// whole address in Unicode NFC, the domain through IDNA (UTS #46: case, width and
/// compatibility mapping; punycode decoded), the local part's case kept. So the
/// look-alike spellings of one address (a Kelvin sign for `K`, a fullwidth domain,
/// the punycode of a Unicode domain) are one address, and the unique index refuses
/// the twin. Domain labels are letters, digits and hyphens (RFC 5890, STD3).
///
/// ```
/// use warden_runtime::user::normalize_email;
/// assert_eq!(normalize_email("King.Arthur@Camelot.ORG").unwrap(), "King.Arthur@camelot.org");
/// assert_eq!(normalize_email("arthur@xn--mnchen-3ya.de").unwrap(), "arthur@münchen.de");
/// assert_eq!(normalize_email("arthur@ｃａｍｅｌｏｔ.org").unwrap(), "arthur@camelot.org");
/// assert!(normalize_email("arthur@camelot.test").is_err());
/// assert!(normalize_email("arthur@came_lot.org").is_err());
/// ```
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    use unicode_normalization::UnicodeNormalization;

    if raw.len() > MAX_EMAIL_LEN {
        return Err("value is not a valid email address: the email address is too long");
    }
    if raw.trim() != raw || raw.chars().any(char::is_control) {
        return Err("value is not a valid email address: white space or control characters");
    }
    let nfc: String = raw.nfc().collect();
    let Some((local, domain)) = nfc.rsplit_once('@') else {
        return Err("value is not a valid email address: An email address must have an @-sign.");
    };
    if local.starts_with('"') || domain.starts_with('[') {
        return Err(
            "value is not a valid email address: quoted local parts and address literals are not accepted",
        );
    }
    // STD3 rules: labels of letters, digits and hyphens only, no leading or trailing
    // hyphen, lengths within DNS limits.
    let ascii = idna::domain_to_ascii_strict(domain).map_err(|_| {
        "value is not a valid email address: The part after the @-sign contains invalid characters."
    })?;
    if !email_address::EmailAddress::is_valid(&format!("{local}@{ascii}")) || local.len() > 64 {
        return Err("value is not a valid email address: the address is not well-formed");
    }
    let (domain, decoded) = idna::domain_to_unicode(&ascii);
    if decoded.is_err() {
        return Err(
            "value is not a valid email address: The part after the @-sign contains invalid characters.",
        );
    }
    let Some((_, tld)) = domain.rsplit_once('.') else {
        return Err(
            "value is not a valid email address: The part after the @-sign is not valid. It should have a period.",
        );
    };
    if tld.chars().all(|c| c.is_ascii_digit()) || SPECIAL_USE_TLDS.contains(&tld) {
        return Err(
            "value is not a valid email address: The part after the @-sign is a special-use or reserved name that cannot be used with email.",
        );
    }
    Ok(format!("{local}@{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn normalisation_keeps_local_case() {
        assert_eq!(
            normalize_email("A.B@Example.COM").unwrap(),
            "A.B@example.com"
        );
    }

    #[test]
    fn invalid_addresses() {
        for bad in [
            "",
            "plain",
            "a@b",
            "@example.com",
            "a@",
            "a b@example.com",
            " a@example.com",
            "a@example.com\n",
            "a@localhost",
            "a@host.local",
            "a@1.2.3.4",
            "\"quoted\"@example.com",
            "a@[127.0.0.1]",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(normalize_email(&long_local).is_err());
    }

    #[test]
    fn look_alike_spellings_are_one_address() {
        // Kelvin sign and Angstrom sign: NFC makes them K and Å.
        assert_eq!(
            normalize_email("\u{212A}ay@example.com").unwrap(),
            "Kay@example.com"
        );
        assert_eq!(
            normalize_email("\u{212B}sa@example.com").unwrap(),
            "\u{C5}sa@example.com"
        );
        // A fullwidth domain, its capitals, and the punycode of a Unicode domain.
        assert_eq!(
            normalize_email("kay@\u{FF25}xample.\u{FF23}OM").unwrap(),
            "kay@example.com"
        );
        assert_eq!(
            normalize_email("kay@xn--mnchen-3ya.de").unwrap(),
            normalize_email("kay@MÜNCHEN.de").unwrap()
        );
        for bad in [
            "kay@exa$mple.com",
            "kay@exa!mple.com",
            "kay@exa_mple.com",
            "kay@-example.com",
            "kay@xn--zz.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_and_json_never_show_the_hash() {
        let user = User {
            id: Uuid::nil(),
            email: "a@example.com".into(),
            hashed_password: "$argon2id$secret-hash".into(),
            is_active: true,
            is_superuser: false,
            is_verified: false,
        };
        assert!(!format!("{user:?}").contains("secret-hash"));
        let json = serde_json::to_value(&user).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "00000000-0000-0000-0000-000000000000", "email": "a@example.com",
                "is_active": true, "is_superuser": false, "is_verified": false})
        );
    }
}
