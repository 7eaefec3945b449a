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
/// model's own extra fields (`()` for [`User`]). The flags are ignored on public
/// registration, as FastAPI Users does (`safe=True`).
#[derive(Clone)]
pub struct UserCreate<X = ()> {
    /// The e-mail as submitted; normalised by [`normalize_email`].
    pub email: String,
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

impl<X: std::fmt::Debug> std::fmt::Debug for UserCreate<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCreate")
            .field("email", &self.email)
            .field("password", &"[REDACTED]")
            .field("extra", &self.extra)
            .finish_non_exhaustive()
    }
}

/// Longest e-mail accepted: FastAPI Users' column is `String(320)`.
pub const MAX_EMAIL_LEN: usize = 320;

/// Special-use domains that email-validator (FastAPI Users' `EmailStr`) refuses.
const SPECIAL_USE_TLDS: [&str; 6] = ["test", "local", "localhost", "invalid", "onion", "arpa"];

/// Validates an e-mail the way FastAPI Users' `EmailStr` does (no deliverability
/// check) and normalises it: domain lower-cased, local part kept.
///
/// ```
/// use warden_runtime::user::normalize_email;
/// assert_eq!(normalize_email("King.Arthur@Camelot.ORG").unwrap(), "King.Arthur@camelot.org");
/// assert!(normalize_email("arthur@camelot.test").is_err());
/// ```
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    if raw.len() > MAX_EMAIL_LEN {
        return Err("value is not a valid email address: the email address is too long");
    }
    if raw.trim() != raw || raw.chars().any(char::is_control) {
        return Err("value is not a valid email address: white space or control characters");
    }
    let Some((local, domain)) = raw.rsplit_once('@') else {
        return Err("value is not a valid email address: An email address must have an @-sign.");
    };
    if local.starts_with('"') || domain.starts_with('[') {
        return Err(
            "value is not a valid email address: quoted local parts and address literals are not accepted",
        );
    }
    if !email_address::EmailAddress::is_valid(raw) || local.len() > 64 {
        return Err("value is not a valid email address: the address is not well-formed");
    }
    let domain = domain.to_lowercase();
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
