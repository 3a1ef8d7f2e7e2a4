//! Sealing source contact details at rest (XChaCha20-Poly1305), and keyed lookup hashes.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;

use crate::DomainError;

/// The 32-byte key that seals contact details. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct ContactKey([u8; 32]);

impl fmt::Debug for ContactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContactKey(<redacted>)")
    }
}

/// Contact details as stored: nonce followed by ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedContact(pub Vec<u8>);

impl fmt::Debug for SealedContact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedContact({} bytes)", self.0.len())
    }
}

impl ContactKey {
    /// A fresh random key.
    pub fn generate() -> ContactKey {
        let mut k = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut k);
        ContactKey(k)
    }

    /// Parse 64 hex characters.
    pub fn from_hex(s: &str) -> Result<ContactKey, DomainError> {
        let bytes = hex::decode(s.trim())
            .map_err(|_| DomainError::invalid("contact_key", "expected 64 hex characters"))?;
        let k: [u8; 32] = bytes
            .try_into()
            .map_err(|_| DomainError::invalid("contact_key", "expected 64 hex characters"))?;
        Ok(ContactKey(k))
    }

    /// The key as 64 hex characters (for writing the key file).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Encrypt `plain` with a random nonce.
    pub fn seal(&self, plain: &[u8]) -> SealedContact {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let mut nonce = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(XNonce::from_slice(&nonce), plain)
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        SealedContact(out)
    }

    /// Decrypt what `seal` produced.
    pub fn open(&self, sealed: &SealedContact) -> Result<Vec<u8>, DomainError> {
        if sealed.0.len() < 24 {
            return Err(DomainError::Crypto);
        }
        let (nonce, ct) = sealed.0.split_at(24);
        XChaCha20Poly1305::new((&self.0).into())
            .decrypt(XNonce::from_slice(nonce), ct)
            .map_err(|_| DomainError::Crypto)
    }

    /// A keyed hash (for looking up a sealed value, e.g. a phone number, without decrypting).
    pub fn lookup_hash(&self, value: &str) -> String {
        let mut h = Sha256::new();
        h.update(b"tocsin-lookup-v1");
        h.update(self.0);
        h.update(value.as_bytes());
        hex::encode(h.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open() {
        let k = ContactKey::generate();
        let s = k.seal(b"+23672000000");
        assert!(!s.0.windows(5).any(|w| w == b"23672"));
        assert_eq!(k.open(&s).unwrap(), b"+23672000000");
        assert!(ContactKey::generate().open(&s).is_err());
        assert!(!format!("{k:?}").contains(&k.to_hex()));
        assert_eq!(
            ContactKey::from_hex(&k.to_hex()).unwrap().to_hex(),
            k.to_hex()
        );
    }
}
