//! Passwords: the length rule, argon2id hashing and verification off the async threads.

use std::fmt;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// ASVS 5.0 (6.2.1): at least 12 characters, with no composition rules.
pub const MIN_LENGTH: usize = 12;
const MAX_LENGTH: usize = 1000;

/// A new password that meets the rules. `Debug` never shows it.
pub struct Password(String);

impl Password {
    pub fn parse(raw: String, confirmation: &str) -> Result<Password, &'static str> {
        let length = raw.chars().count();
        if length < MIN_LENGTH {
            return Err(
                "Use at least 12 characters: a few words you will remember make a strong password.",
            );
        }
        if length > MAX_LENGTH {
            return Err("Use at most 1000 characters.");
        }
        if raw != confirmation {
            return Err("The two passwords do not match.");
        }
        Ok(Password(raw))
    }

    /// The argon2id PHC string for this password (about 60 ms; runs on a blocking thread).
    pub async fn hash(self) -> anyhow::Result<String> {
        tokio::task::spawn_blocking(move || hash_now(&self.0)).await?
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(REDACTED)")
    }
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    let hash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    Ok(hash.to_string())
}

/// A hash of a password nobody knows: checking against it when an account has no password (or
/// does not exist) takes as long as a real check, so timing does not reveal which emails exist.
static DECOY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now(&crate::secrets::random_token()).expect("argon2 can hash"));

/// Whether `password` matches `hash`; always does the full argon2 work.
pub async fn verify(password: String, hash: Option<String>) -> bool {
    let matches = tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let phc = hash.unwrap_or_else(|| DECOY_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        known && ok
    })
    .await;
    matches.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_or_mismatched_passwords_are_refused() {
        assert!(Password::parse("short".into(), "short").is_err());
        assert!(Password::parse("long enough pw".into(), "long enough pX").is_err());
        assert!(Password::parse("long enough pw".into(), "long enough pw").is_ok());
    }

    #[test]
    fn debug_output_hides_the_password() {
        let password = Password::parse("correct horse".into(), "correct horse").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let hash = Password::parse("correct horse".into(), "correct horse")
            .unwrap()
            .hash()
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), Some(hash.clone())).await);
        assert!(!verify("wrong horse".into(), Some(hash)).await);
        assert!(!verify("anything".into(), None).await);
    }
}
