//! Secrets at rest and secret comparison.
//!
//! Values Herald must send later (auth header values, signing secrets) are sealed with
//! XChaCha20-Poly1305 under the server key; values it only has to recognise (API keys,
//! invitation tokens) are stored as SHA-256 digests; passwords use argon2id.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, Payload};
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

    /// `v2:` + base64(nonce ‖ ciphertext), bound to `context` (the row and column it is
    /// stored in, see [`context`]) as associated data: copied anywhere else, it does not open.
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<String> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .aead
            .encrypt(&nonce, Payload { msg: plaintext.as_bytes(), aad: context.as_bytes() })
            .map_err(|_| Error::Internal("seal failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{BOUND}{}", B64.encode(out)))
    }

    /// Opens a value sealed by [`Cipher::seal`] for the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String> {
        self.decrypt(sealed.strip_prefix(BOUND), context)
    }

    /// Opens a value sealed before values were bound to their place (`v1:`), to re-seal it.
    pub(crate) fn open_unbound(&self, sealed: &str) -> Result<String> {
        self.decrypt(sealed.strip_prefix(UNBOUND), "")
    }

    fn decrypt(&self, encoded: Option<&str>, context: &str) -> Result<String> {
        let fail = || Error::Internal("stored secret cannot be decrypted (moved to another row, or HERALD_SECRET_KEY changed?)".into());
        let raw = B64.decode(encoded.ok_or_else(fail)?).map_err(|_| fail())?;
        if raw.len() < 24 {
            return Err(fail());
        }
        let (nonce, body) = raw.split_at(24);
        let plain = self.aead.decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad: context.as_bytes() }).map_err(|_| fail())?;
        String::from_utf8(plain).map_err(|_| fail())
    }
}

/// Prefix of values bound to their row and column.
const BOUND: &str = "v2:";
/// Prefix of values sealed by releases before that; upgraded on start.
pub(crate) const UNBOUND: &str = "v1:";

/// Where a sealed value lives: `table.column:row id`.
pub fn context(table: &str, column: &str, id: &str) -> String {
    format!("{table}.{column}:{id}")
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
        let sealed = cipher.seal("Bearer s3cret-value", "endpoints.secret:ep_1").unwrap();
        assert!(sealed.starts_with("v2:") && !sealed.contains("s3cret"));
        assert_ne!(sealed, cipher.seal("Bearer s3cret-value", "endpoints.secret:ep_1").unwrap(), "fresh nonce every time");
        assert_eq!(cipher.open(&sealed, "endpoints.secret:ep_1").unwrap(), "Bearer s3cret-value");
    }

    #[test]
    fn another_key_cannot_open() {
        let sealed = Cipher::from_secret("one").seal("x", "c").unwrap();
        assert!(Cipher::from_secret("two").open(&sealed, "c").is_err());
    }

    #[test]
    fn a_value_opens_only_where_it_was_sealed() {
        let cipher = Cipher::from_secret("key");
        let sealed = cipher.seal("whsec_abc", &context("endpoints", "secret", "ep_1")).unwrap();
        assert!(cipher.open(&sealed, &context("endpoints", "secret", "ep_2")).is_err(), "another row");
        assert!(cipher.open(&sealed, &context("endpoints", "previous_secret", "ep_1")).is_err(), "another column");
        assert!(cipher.open_unbound(&sealed).is_err());
    }

    #[test]
    fn values_sealed_before_binding_open_only_as_such() {
        let cipher = Cipher::from_secret("key");
        // What releases before binding wrote: `v1:` and no associated data.
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut raw = nonce.to_vec();
        raw.extend(cipher.aead.encrypt(&nonce, b"old value".as_slice()).unwrap());
        let old = format!("v1:{}", B64.encode(raw));
        assert_eq!(cipher.open_unbound(&old).unwrap(), "old value");
        assert!(cipher.open(&old, "").is_err(), "only the upgrade reads them");
    }

    #[test]
    fn passwords_verify_only_with_the_right_password() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong", &hash));
    }
}
