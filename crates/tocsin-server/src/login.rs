//! Password checks: throttled per account and per client, and run on blocking threads.
//!
//! Failed logins are counted per account (the typed username) and per client address, both
//! hashed with a key that lives only in this process's memory, as [`crate::ratelimit`] does;
//! nothing about them is written to disk or logs. Each attempt counts as a failure before the
//! password is checked (guesses sent in parallel are counted too). Once either count reaches
//! its limit within the window, every login for that account or from that client is refused
//! with 429 and `Retry-After` until the window (counted from the first failure) has passed,
//! even with the right password. A successful login clears the account's count and takes back
//! its own count against the client, but not earlier ones (else a guesser holding one real
//! account could clear their client's count between guesses).
//!
//! Argon2 takes tens of milliseconds of CPU: hashing and verification run on tokio's blocking
//! threads behind a semaphore with one permit fewer than the cores (at least one), so logins in
//! flight neither block the async workers that answer every other request nor take every core
//! from them.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tocsin_domain::{DomainError, User};
use tokio::sync::Semaphore;

/// Failed logins allowed per account within the window (a person who mistypes has room).
pub const PER_ACCOUNT: u32 = 10;
/// Failed logins allowed per client address within the window (an office behind one address
/// has room for several people's typing mistakes).
pub const PER_CLIENT: u32 = 30;
/// The window, counted from the first failure.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Counters kept at most; past this, expired ones are dropped first, then all.
const MAX_ENTRIES: usize = 100_000;

type Key = [u8; 16];

/// Per-account and per-client counts of failed logins.
pub struct Throttle {
    salt: [u8; 32],
    per_account: u32,
    per_client: u32,
    window: Duration,
    failures: Mutex<HashMap<Key, (Instant, u32)>>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(PER_ACCOUNT, PER_CLIENT, WINDOW)
    }
}

impl Throttle {
    /// A throttle with a fresh in-memory key.
    pub fn new(per_account: u32, per_client: u32, window: Duration) -> Throttle {
        Throttle {
            salt: rand::random(),
            per_account,
            per_client,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn key(&self, kind: &[u8], value: &[u8]) -> Key {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(kind);
        h.update([0]);
        h.update(value);
        h.finalize()[..16].try_into().expect("16 bytes")
    }

    fn keys(&self, username: &str, client: IpAddr) -> [(Key, u32); 2] {
        [
            (
                self.key(b"account", username.trim().as_bytes()),
                self.per_account,
            ),
            (
                self.key(b"client", client.to_string().as_bytes()),
                self.per_client,
            ),
        ]
    }

    /// Start a login attempt: counted at once against the account and the client as a
    /// failure (so that guesses sent in parallel cannot all pass before any is counted), or
    /// refused with the time to wait when either is at its limit. Call [`Throttle::succeeded`]
    /// when the password was right.
    pub fn attempt(&self, username: &str, client: IpAddr) -> Result<(), Duration> {
        let keys = self.keys(username, client);
        let mut m = self.failures.lock().expect("throttle poisoned");
        let wait = keys
            .iter()
            .filter_map(|(k, limit)| {
                let (first, n) = m.get(k)?;
                let left = self.window.checked_sub(first.elapsed())?;
                (*n >= *limit && !left.is_zero()).then_some(left)
            })
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        if m.len() >= MAX_ENTRIES {
            m.retain(|_, (first, _)| first.elapsed() < self.window);
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
        }
        for (k, _) in keys {
            let e = m.entry(k).or_insert((Instant::now(), 0));
            if e.0.elapsed() >= self.window {
                *e = (Instant::now(), 0);
            }
            e.1 += 1;
        }
        Ok(())
    }

    /// The attempt's password was right: the account's count starts again, and the attempt
    /// no longer counts against the client.
    pub fn succeeded(&self, username: &str, client: IpAddr) {
        let [(account, _), (client, _)] = self.keys(username, client);
        let mut m = self.failures.lock().expect("throttle poisoned");
        m.remove(&account);
        if let Some(e) = m.get_mut(&client) {
            e.1 = e.1.saturating_sub(1);
        }
    }
}

/// Runs Argon2 on blocking threads, at most one check per core but one at once.
pub struct Hasher {
    permits: Semaphore,
}

impl Default for Hasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Hasher {
            permits: Semaphore::new(cores.saturating_sub(1).max(1)),
        }
    }
}

impl Hasher {
    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore never closed");
        tokio::task::spawn_blocking(f)
            .await
            .expect("password check panicked")
    }

    /// Whether `password` logs `user` in (see [`tocsin_domain::user::verify_login`]: unknown,
    /// token-only and disabled users take as long as anyone and are refused).
    pub async fn verify(&self, user: Option<User>, password: String) -> bool {
        self.run(move || tocsin_domain::user::verify_login(user.as_ref(), &password))
            .await
    }

    /// Hash a new password after the policy check.
    pub async fn hash(&self, password: String) -> Result<String, DomainError> {
        self.run(move || tocsin_domain::user::hash_password(&password))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_account_and_per_client() {
        let t = Throttle::new(2, 3, Duration::from_secs(600));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let c: IpAddr = "192.0.2.9".parse().unwrap();
        assert!(t.attempt("alice", a).is_ok());
        assert!(t.attempt("alice", b).is_ok());
        // alice is throttled from anywhere; bob from a is not (a has 1 of 3).
        assert!(t.attempt("alice", c).is_err());
        assert!(t.attempt("bob", a).is_ok());
        assert!(t.attempt("carol", a).is_ok());
        // a has 3 attempts: throttled for any account; b is not.
        let left = t.attempt("dave", a).unwrap_err();
        assert!(left <= Duration::from_secs(600) && left > Duration::from_secs(590));
        assert!(t.attempt("dave", b).is_ok());
        // A success clears the account and takes back only its own attempt from the client.
        t.succeeded("dave", b);
        assert!(t.attempt("alice", b).is_err(), "alice is still throttled");
        let t = Throttle::new(5, 2, Duration::from_secs(600));
        assert!(t.attempt("erin", c).is_ok());
        t.succeeded("erin", c);
        assert!(t.attempt("erin", c).is_ok());
        assert!(t.attempt("frank", c).is_ok());
        assert!(t.attempt("erin", c).is_err(), "two open attempts from c");
    }
}
