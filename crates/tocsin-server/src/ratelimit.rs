//! A per-client rate limit for the public report form that records nothing about clients:
//! addresses are hashed with a key that lives only in this process's memory, counts are kept
//! only for the current window, and nothing is written to disk or logs.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `per_window` submissions per client per `window`.
pub struct Limiter {
    salt: [u8; 32],
    window: Duration,
    per_window: u32,
    state: Mutex<(Instant, HashMap<[u8; 16], u32>)>,
}

impl Limiter {
    /// A limiter with a fresh in-memory key.
    pub fn new(per_window: u32, window: Duration) -> Limiter {
        Limiter {
            salt: rand::random(),
            window,
            per_window,
            state: Mutex::new((Instant::now(), HashMap::new())),
        }
    }

    /// Count one submission; false when the client is over its limit.
    pub fn allow(&self, ip: IpAddr) -> bool {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(ip.to_string().as_bytes());
        let key: [u8; 16] = h.finalize()[..16].try_into().expect("16 bytes");
        let mut g = self.state.lock().expect("limiter poisoned");
        if g.0.elapsed() > self.window {
            *g = (Instant::now(), HashMap::new());
        }
        let n = g.1.entry(key).or_insert(0);
        *n += 1;
        *n <= self.per_window
    }
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter::new(10, Duration::from_secs(600))
    }
}
