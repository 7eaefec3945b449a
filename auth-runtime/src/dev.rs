//! Development conveniences that must never be reached in production by accident.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::ConfigError;
use crate::token::Secret;

/// Where a development secret came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevSecretOrigin {
    /// Generated now and written to the file.
    Created,
    /// Read from the file a previous run wrote.
    Reused,
}

/// Reads the development secret from `path`, or generates a random 512-bit one (enough
/// for HS512) and
/// writes it there, readable only by the owner (mode 0600), so tokens survive
/// restarts without anyone choosing a weak secret by hand.
pub fn load_or_create_secret(path: &Path) -> Result<(Secret, DevSecretOrigin), ConfigError> {
    let fail = |reason: String| ConfigError::DevSecret {
        path: path.display().to_string(),
        reason,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let secret = text.trim_end_matches(['\n', '\r']);
            if secret.len() < 32 {
                return Err(fail(format!("holds {} bytes, fewer than 32", secret.len())));
            }
            return Ok((Secret::from(secret), DevSecretOrigin::Reused));
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(fail(error.to_string())),
    }
    let mut bytes = [0u8; 64];
    getrandom::fill(&mut bytes).map_err(|error| fail(format!("no randomness: {error}")))?;
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| fail(e.to_string()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| fail(e.to_string()))?;
    writeln!(file, "{secret}").map_err(|e| fail(e.to_string()))?;
    Ok((Secret::from(secret), DevSecretOrigin::Created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_then_reuses_with_owner_only_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/secret");
        let (first, origin) = load_or_create_secret(&path).unwrap();
        assert_eq!(origin, DevSecretOrigin::Created);
        assert_eq!(first.len(), 86);
        let (second, origin) = load_or_create_secret(&path).unwrap();
        assert_eq!(origin, DevSecretOrigin::Reused);
        assert_eq!(first.expose(), second.expose());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn short_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "short\n").unwrap();
        assert!(load_or_create_secret(&path).is_err());
    }
}
