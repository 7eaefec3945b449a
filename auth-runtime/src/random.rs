//! Random ids and tokens, from the operating system's generator.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `N` random bytes.
pub(crate) fn bytes<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| format!("no randomness: {error}"))?;
    Ok(bytes)
}

/// `N` random bytes as base64url without padding: 32 bytes give FastAPI Users'
/// `secrets.token_urlsafe()` shape (43 characters).
pub(crate) fn urlsafe<const N: usize>() -> Result<String, String> {
    Ok(URL_SAFE_NO_PAD.encode(bytes::<N>()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_have_fastapi_users_shape_and_differ() {
        let (a, b) = (
            super::urlsafe::<32>().unwrap(),
            super::urlsafe::<32>().unwrap(),
        );
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }
}
