//! Sealing source contact details at rest (XChaCha20-Poly1305), and keyed lookup hashes.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
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

/// Contact details as stored: nonce followed by ciphertext, or (sealed with associated data,
/// see [`ContactKey::seal_bound`]) the byte [`BOUND_V2`], then nonce and ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedContact(pub Vec<u8>);

impl fmt::Debug for SealedContact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedContact({} bytes)", self.0.len())
    }
}

/// First byte of a value sealed with associated data.
pub const BOUND_V2: u8 = 0x02;

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

    /// Encrypt `plain` bound to `context` (AEAD associated data, e.g. the owning record's id):
    /// the result opens only with the same context, so a sealed value copied onto another
    /// record does not open there.
    pub fn seal_bound(&self, plain: &[u8], context: &[u8]) -> SealedContact {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let mut nonce = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: context,
                },
            )
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + 24 + ct.len());
        out.push(BOUND_V2);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        SealedContact(out)
    }

    /// Decrypt what [`ContactKey::seal_bound`] produced for the same `context`. Values sealed
    /// before binding existed (by [`ContactKey::seal`]) still open, without the check.
    pub fn open_bound(
        &self,
        sealed: &SealedContact,
        context: &[u8],
    ) -> Result<Vec<u8>, DomainError> {
        if let Some(rest) = sealed.0.strip_prefix(&[BOUND_V2]) {
            if rest.len() >= 24 {
                let (nonce, ct) = rest.split_at(24);
                let opened = XChaCha20Poly1305::new((&self.0).into()).decrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: ct,
                        aad: context,
                    },
                );
                if let Ok(p) = opened {
                    return Ok(p);
                }
            }
        }
        // An unbound value whose random nonce happens to start with the marker byte.
        self.open(sealed)
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

    /// A key for another purpose derived from this one (HKDF-SHA256 with `purpose` as info):
    /// kept, backed up and rotated with it, never equal to it.
    pub fn derive(&self, purpose: &str) -> ContactKey {
        let mut k = [0u8; 32];
        hkdf::Hkdf::<Sha256>::new(Some(b"tocsin-derive-v1"), &self.0)
            .expand(purpose.as_bytes(), &mut k)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        ContactKey(k)
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

    #[test]
    fn bound_values_open_only_in_their_context() {
        let k = ContactKey::generate();
        let s = k.seal_bound(b"+23672000000", b"source-a");
        assert_eq!(s.0[0], BOUND_V2);
        assert_eq!(k.open_bound(&s, b"source-a").unwrap(), b"+23672000000");
        // Copied onto another record, it does not open.
        assert!(k.open_bound(&s, b"source-b").is_err());
        assert!(ContactKey::generate().open_bound(&s, b"source-a").is_err());
        // Values sealed before binding still open.
        let old = k.seal(b"+23672000001");
        assert_eq!(k.open_bound(&old, b"anything").unwrap(), b"+23672000001");
    }
}
