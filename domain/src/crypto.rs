//! Secrets at rest and secret comparison.
//!
//! Values Herald must send later (auth header values, signing secrets) are sealed with
//! XChaCha20-Poly1305 under the server key; values it only has to recognise (API keys,
//! invitation tokens) are stored as SHA-256 digests; passwords use argon2id.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Encrypts and decrypts values at rest with the server key (`HERALD_SECRET_KEY`).
#[derive(Clone)]
pub struct Cipher {
    aead: XChaCha20Poly1305,
}

impl Cipher {
    /// Derives the 256-bit key from any passphrase-like secret, so operators can paste any
    /// long random string.
    pub fn from_secret(secret: &str) -> Self {
        let key = Sha256::digest(secret.as_bytes());
        Cipher { aead: XChaCha20Poly1305::new(&key) }
    }

    /// `v1:` + base64(nonce ‖ ciphertext).
    pub fn seal(&self, plaintext: &str) -> Result<String> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self.aead.encrypt(&nonce, plaintext.as_bytes()).map_err(|_| Error::Internal("seal failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("v1:{}", B64.encode(out)))
    }

    pub fn open(&self, sealed: &str) -> Result<String> {
        let fail = || Error::Internal("stored secret cannot be decrypted (was HERALD_SECRET_KEY changed?)".into());
        let raw = B64.decode(sealed.strip_prefix("v1:").ok_or_else(fail)?).map_err(|_| fail())?;
        if raw.len() < 24 {
            return Err(fail());
        }
        let (nonce, body) = raw.split_at(24);
        let plain = self.aead.decrypt(XNonce::from_slice(nonce), body).map_err(|_| fail())?;
        String::from_utf8(plain).map_err(|_| fail())
    }
}

pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| Error::internal("hash password", e))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_round_trip_and_hide_the_plaintext() {
        let cipher = Cipher::from_secret("test key");
        let sealed = cipher.seal("Bearer s3cret-value").unwrap();
        assert!(!sealed.contains("s3cret"));
        assert_ne!(sealed, cipher.seal("Bearer s3cret-value").unwrap(), "fresh nonce every time");
        assert_eq!(cipher.open(&sealed).unwrap(), "Bearer s3cret-value");
    }

    #[test]
    fn another_key_cannot_open() {
        let sealed = Cipher::from_secret("one").seal("x").unwrap();
        assert!(Cipher::from_secret("two").open(&sealed).is_err());
    }

    #[test]
    fn passwords_verify_only_with_the_right_password() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong", &hash));
    }
}
