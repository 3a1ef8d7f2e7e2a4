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

/// The purpose this installation's signing key is sealed under (see [`ContactKey::derive`]).
pub const SIGNING_KEY_PURPOSE: &str = "tocsin-share-signing-key-v1";

/// The associated data the signing key is sealed with.
pub const SIGNING_KEY_CONTEXT: &[u8] = b"share-signing-key";

/// This installation's Ed25519 key, which signs the bundles it shares with partner
/// organisations. Stored only sealed ([`SigningKey::seal`]); its `Debug` never shows it.
pub struct SigningKey {
    pkcs8: Vec<u8>,
    pair: ring::signature::Ed25519KeyPair,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey(public {})", self.public_key())
    }
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate() -> SigningKey {
        let rng = ring::rand::SystemRandom::new();
        let doc = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
            .expect("the system's random generator works");
        SigningKey::from_pkcs8(doc.as_ref()).expect("a key ring just made opens")
    }

    fn from_pkcs8(bytes: &[u8]) -> Result<SigningKey, DomainError> {
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(bytes)
            .map_err(|_| DomainError::Crypto)?;
        Ok(SigningKey {
            pkcs8: bytes.to_vec(),
            pair,
        })
    }

    /// The key sealed with a key derived from the contact key (bound to its purpose), as
    /// stored.
    pub fn seal(&self, contact_key: &ContactKey) -> SealedContact {
        contact_key
            .derive(SIGNING_KEY_PURPOSE)
            .seal_bound(&self.pkcs8, SIGNING_KEY_CONTEXT)
    }

    /// Open what [`SigningKey::seal`] stored.
    pub fn open(
        sealed: &SealedContact,
        contact_key: &ContactKey,
    ) -> Result<SigningKey, DomainError> {
        let plain = contact_key
            .derive(SIGNING_KEY_PURPOSE)
            .open_bound(sealed, SIGNING_KEY_CONTEXT)?;
        SigningKey::from_pkcs8(&plain)
    }

    /// Its public half.
    pub fn public_key(&self) -> PublicKey {
        use ring::signature::KeyPair;
        let mut k = [0u8; 32];
        k.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey(k)
    }

    /// The Ed25519 signature (64 bytes) of `msg`.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.pair.sign(msg).as_ref().to_vec()
    }
}

/// An Ed25519 public key (32 bytes), written in standard base64 (44 characters).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey([u8; 32]);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use base64::Engine;
        f.write_str(&base64::engine::general_purpose::STANDARD.encode(self.0))
    }
}

impl PublicKey {
    /// Parse the base64 of 32 bytes (what `tocsin share key` prints), refused naming `key`.
    pub fn parse(s: &str) -> Result<PublicKey, DomainError> {
        use base64::Engine;
        let bad = || {
            DomainError::invalid("key", "expected an Ed25519 public key: 32 bytes in base64, as `tocsin share key` prints it")
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|_| bad())?;
        let k: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
        Ok(PublicKey(k))
    }

    /// Whether `signature` is this key's Ed25519 signature of `msg`.
    pub fn verify(&self, msg: &[u8], signature: &[u8]) -> bool {
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &self.0)
            .verify(msg, signature)
            .is_ok()
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
    fn signing_keys_sign_verify_and_stay_sealed() {
        let ck = ContactKey::generate();
        let k = SigningKey::generate();
        let sig = k.sign(b"payload");
        let pk = PublicKey::parse(&k.public_key().to_string()).unwrap();
        assert!(pk.verify(b"payload", &sig));
        assert!(!pk.verify(b"paylOad", &sig));
        assert!(!SigningKey::generate().public_key().verify(b"payload", &sig));
        let sealed = k.seal(&ck);
        assert!(!sealed
            .0
            .windows(16)
            .any(|w| k.pkcs8.windows(16).any(|p| p == w)));
        let back = SigningKey::open(&sealed, &ck).unwrap();
        assert_eq!(back.public_key(), k.public_key());
        assert!(SigningKey::open(&sealed, &ContactKey::generate()).is_err());
        assert!(!format!("{k:?}").contains(&hex::encode(&k.pkcs8)));
        assert_eq!(PublicKey::parse("AAAA").unwrap_err().field(), Some("key"));
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
