//! Claim validation (RFC 7519 §4.1, §7.2), run only after the signature verified.

use serde_json::{Map, Value};

use super::TokenError;

/// The claims of a verified token.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims {
    /// `sub`: the user id as a string.
    pub sub: String,
    /// `aud`, as a list even when the token carried a bare string.
    pub aud: Vec<String>,
    /// `exp`, seconds since the epoch; `None` only under `lifetime = forever`.
    pub exp: Option<i64>,
    /// `iat`, when present (FastAPI Users' tokens have none).
    pub iat: Option<i64>,
    /// `jti`, when present (FastAPI Users' tokens have none).
    pub jti: Option<String>,
    /// `sid`: the session the token belongs to (warden's access tokens).
    pub sid: Option<String>,
    /// `auth_time`: when the session's user last signed in, re-authentication
    /// included (warden's access tokens; OpenID Connect Core §2).
    pub auth_time: Option<i64>,
    /// `amr`: how the user proved who they are (RFC 8176 values; empty when absent).
    pub amr: Vec<String>,
    /// Every other claim, e.g. a reset token's `password_fgpt`.
    pub extra: Map<String, Value>,
}

pub(crate) struct Rules<'a> {
    pub audience: &'a [String],
    pub require_exp: bool,
    pub leeway: i64,
    pub now: i64,
}

pub(crate) fn validate(
    mut claims: Map<String, Value>,
    rules: &Rules<'_>,
) -> Result<VerifiedClaims, TokenError> {
    let exp = numeric_date(claims.remove("exp"), "exp")?;
    let nbf = numeric_date(claims.remove("nbf"), "nbf")?;
    let iat = numeric_date(claims.remove("iat"), "iat")?;
    match exp {
        // PyJWT's rule: expired when exp <= now - leeway.
        Some(exp) if exp <= rules.now.saturating_sub(rules.leeway) => {
            return Err(TokenError::Expired);
        }
        None if rules.require_exp => return Err(TokenError::MissingClaim("exp")),
        _ => {}
    }
    if nbf.is_some_and(|nbf| nbf > rules.now.saturating_add(rules.leeway)) {
        return Err(TokenError::NotYetValid);
    }
    if iat.is_some_and(|iat| iat > rules.now.saturating_add(rules.leeway)) {
        return Err(TokenError::IssuedInFuture);
    }
    let aud = match claims.remove("aud") {
        Some(Value::String(aud)) => vec![aud],
        Some(Value::Array(items)) if !items.is_empty() => items
            .into_iter()
            .map(|item| match item {
                Value::String(aud) => Ok(aud),
                _ => Err(TokenError::InvalidClaim("aud")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(TokenError::InvalidClaim("aud")),
        None => return Err(TokenError::MissingClaim("aud")),
    };
    // Exact, case-sensitive match of at least one audience (PyJWT's rule). Each token
    // kind has its own audience, so a reset token never passes as an access token
    // (RFC 8725 §3.12).
    if !aud.iter().any(|a| rules.audience.contains(a)) {
        return Err(TokenError::Audience);
    }
    let sub = match claims.remove("sub") {
        Some(Value::String(sub)) if !sub.is_empty() => sub,
        Some(_) => return Err(TokenError::InvalidClaim("sub")),
        None => return Err(TokenError::MissingClaim("sub")),
    };
    let jti = match claims.remove("jti") {
        Some(Value::String(jti)) => Some(jti),
        Some(_) => return Err(TokenError::InvalidClaim("jti")),
        None => None,
    };
    let sid = match claims.remove("sid") {
        Some(Value::String(sid)) if !sid.is_empty() => Some(sid),
        Some(_) => return Err(TokenError::InvalidClaim("sid")),
        None => None,
    };
    let auth_time = numeric_date(claims.remove("auth_time"), "auth_time")?;
    // RFC 8176 §1: an array of case-sensitive strings; anything else is refused.
    let amr = match claims.remove("amr") {
        None => Vec::new(),
        Some(Value::Array(values)) => values
            .into_iter()
            .map(|value| match value {
                Value::String(method) if !method.is_empty() && method.len() <= 32 => Ok(method),
                _ => Err(TokenError::InvalidClaim("amr")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(TokenError::InvalidClaim("amr")),
    };
    Ok(VerifiedClaims {
        sub,
        aud,
        exp,
        iat,
        jti,
        sid,
        auth_time,
        amr,
        extra: claims,
    })
}

/// A NumericDate must be a JSON number (RFC 7519 §2); strings, booleans and null are
/// refused rather than skipped (jsonwebtoken CVE-2026-25537).
fn numeric_date(value: Option<Value>, claim: &'static str) -> Result<Option<i64>, TokenError> {
    let Some(value) = value else { return Ok(None) };
    let Value::Number(number) = value else {
        return Err(TokenError::InvalidClaim(claim));
    };
    if let Some(int) = number.as_i64() {
        return Ok(Some(int));
    }
    match number.as_f64() {
        Some(float) if float.is_finite() && float.abs() < 1e15 => Ok(Some(float.floor() as i64)),
        _ => Err(TokenError::InvalidClaim(claim)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn check(claims: Value) -> Result<VerifiedClaims, TokenError> {
        let audience = vec!["fastapi-users:auth".to_owned()];
        let rules = Rules {
            audience: &audience,
            require_exp: true,
            leeway: 0,
            now: NOW,
        };
        let Value::Object(map) = claims else {
            panic!("test claims must be an object")
        };
        validate(map, &rules)
    }

    #[test]
    fn fastapi_users_layout_is_accepted() {
        let claims =
            check(json!({"sub": "u", "aud": ["fastapi-users:auth"], "exp": NOW + 10})).unwrap();
        assert_eq!(claims.sub, "u");
        assert_eq!(claims.exp, Some(NOW + 10));
        assert!(check(json!({"sub": "u", "aud": "fastapi-users:auth", "exp": NOW + 10})).is_ok());
    }

    #[test]
    fn dates_must_be_numbers() {
        for bad in [
            json!("9999999999"),
            json!(null),
            json!(true),
            json!([1]),
            json!({}),
        ] {
            let err =
                check(json!({"sub": "u", "aud": "fastapi-users:auth", "exp": bad})).unwrap_err();
            assert_eq!(err, TokenError::InvalidClaim("exp"));
            let err =
                check(json!({"sub": "u", "aud": "fastapi-users:auth", "exp": NOW + 9, "nbf": bad}))
                    .unwrap_err();
            assert_eq!(err, TokenError::InvalidClaim("nbf"));
        }
    }

    #[test]
    fn time_windows() {
        let base = |extra: Value| {
            let mut claims = json!({"sub": "u", "aud": "fastapi-users:auth", "exp": NOW + 60});
            claims
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            check(claims)
        };
        assert_eq!(base(json!({"exp": NOW})), Err(TokenError::Expired));
        assert_eq!(base(json!({"exp": NOW - 1})), Err(TokenError::Expired));
        assert!(base(json!({"exp": NOW + 1})).is_ok());
        assert_eq!(base(json!({"nbf": NOW + 5})), Err(TokenError::NotYetValid));
        assert!(base(json!({"nbf": NOW})).is_ok());
        assert_eq!(
            base(json!({"iat": NOW + 5})),
            Err(TokenError::IssuedInFuture)
        );
        assert!(base(json!({"exp": (NOW + 5) as f64 + 0.5})).is_ok());
        assert_eq!(
            base(json!({"exp": 1e300})),
            Err(TokenError::InvalidClaim("exp"))
        );
    }

    #[test]
    fn audience_and_subject_rules() {
        assert_eq!(
            check(json!({"sub": "u", "exp": NOW + 9})),
            Err(TokenError::MissingClaim("aud"))
        );
        assert_eq!(
            check(json!({"sub": "u", "aud": ["fastapi-users:reset"], "exp": NOW + 9})),
            Err(TokenError::Audience)
        );
        assert_eq!(
            check(json!({"sub": "u", "aud": "FASTAPI-USERS:AUTH", "exp": NOW + 9})),
            Err(TokenError::Audience)
        );
        assert_eq!(
            check(json!({"sub": "u", "aud": [], "exp": NOW + 9})),
            Err(TokenError::InvalidClaim("aud"))
        );
        assert_eq!(
            check(json!({"sub": 5, "aud": "fastapi-users:auth", "exp": NOW + 9})),
            Err(TokenError::InvalidClaim("sub"))
        );
        assert_eq!(
            check(json!({"aud": "fastapi-users:auth", "exp": NOW + 9})),
            Err(TokenError::MissingClaim("sub"))
        );
        assert_eq!(
            check(json!({"sub": "u", "aud": "fastapi-users:auth"})),
            Err(TokenError::MissingClaim("exp"))
        );
    }
}
