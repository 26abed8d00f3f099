//! Passwords: the length policy, and argon2id hashing kept off the async runtime.
//!
//! Hashing runs on the blocking pool behind a semaphore, so a burst of logins costs at most
//! `concurrency` cores and never stalls other requests. Unknown emails are checked against a
//! dummy hash so a login takes as long whether or not the account exists.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use tokio::sync::Semaphore;

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

/// A password that meets the policy. Never logged: `Debug` is redacted.
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be {MIN_CHARS} to {MAX_CHARS} characters")]
pub struct PasswordPolicyError;

impl Password {
    /// Counts characters, not bytes, and never truncates: every character is hashed.
    pub fn parse(raw: String) -> Result<Self, PasswordPolicyError> {
        let chars = raw.chars().count();
        if (MIN_CHARS..=MAX_CHARS).contains(&chars) {
            Ok(Self(raw))
        } else {
            Err(PasswordPolicyError)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Hashes waiting for a permit.
    waiting: Arc<AtomicUsize>,
    concurrency: usize,
}

/// How busy the hasher is: a queue that stays long means logins wait on the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLoad {
    pub waiting: usize,
    pub running: usize,
}

/// OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).expect("constant parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// What an unknown email's password is checked against: the hash of a phrase nobody sends, with
/// the parameters above (a test holds them equal), so the check costs what a real one does. A
/// constant rather than hashed at start-up: hashing takes 19 MiB that an allocator keeps resident
/// long after, and the service would start with that much more memory.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$RM+W7NxtIEg9psOLFW946w$9yE3usfj0RBOaNIvlaQD8q3F6UfO874uxl1iWqjAVCU";

fn hash_blocking(plain: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(plain.as_bytes(), &salt)
        .expect("argon2 accepts any password length up to 2^32 bytes")
        .to_string()
}

fn verify_blocking(plain: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2().verify_password(plain.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

impl PasswordHasher {
    /// `concurrency` bounds the hashes in flight (each takes 19 MiB and one core).
    pub fn new(concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        Self { permits: Arc::new(Semaphore::new(concurrency)), waiting: Arc::default(), concurrency }
    }

    pub fn load(&self) -> HashLoad {
        HashLoad {
            waiting: self.waiting.load(Ordering::Relaxed),
            running: self.concurrency.saturating_sub(self.permits.available_permits()),
        }
    }

    pub async fn hash(&self, password: &Password) -> String {
        let plain = password.expose().to_owned();
        self.run(move || hash_blocking(&plain)).await
    }

    /// Verifies against `stored`, or against the dummy hash when there is no account, so both
    /// cases cost one argon2 verification.
    pub async fn verify(&self, plain: &str, stored: Option<&str>) -> bool {
        let plain = plain.to_owned();
        let exists = stored.is_some();
        let target = stored.unwrap_or(DUMMY_HASH).to_owned();
        let matched = self.run(move || verify_blocking(&plain, &target)).await;
        matched && exists
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> T {
        // Counted while it waits, and no longer once it has a permit (or its caller gave up).
        let waiting = Waiting::enter(&self.waiting);
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        drop(waiting);
        tokio::task::spawn_blocking(work).await.expect("password hashing does not panic")
    }
}

/// One hash in the queue, for as long as the guard lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(waiting: &'a AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::Relaxed);
        Self(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_costs_what_a_real_hash_does() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let real_hash = hash_blocking("a real password");
        let real = PasswordHash::new(&real_hash).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params, "the dummy hash must follow the parameters in use");
        assert!(verify_blocking("dummy password that matches nothing", DUMMY_HASH), "a well-formed argon2id hash");
    }

    #[test]
    fn policy_counts_characters_not_bytes() {
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("ééééééé".into()).is_err()); // 7 chars, 14 bytes
        assert!(Password::parse("éééééééé".into()).is_ok());
        assert!(Password::parse("x".repeat(128)).is_ok());
        assert!(Password::parse("x".repeat(129)).is_err());
    }

    #[tokio::test]
    async fn verifies_only_the_right_password_and_never_an_absent_account() {
        let hasher = PasswordHasher::new(2);
        let password = Password::parse("correct horse battery".into()).unwrap();
        let stored = hasher.hash(&password).await;
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify("correct horse battery", Some(&stored)).await);
        assert!(!hasher.verify("correct horse batterY", Some(&stored)).await);
        assert!(!hasher.verify("dummy password that matches nothing", None).await);
    }

    #[tokio::test]
    async fn a_long_password_is_not_truncated() {
        let hasher = PasswordHasher::new(1);
        let long = "a".repeat(127) + "b";
        let stored = hasher.hash(&Password::parse(long.clone()).unwrap()).await;
        assert!(!hasher.verify(&("a".repeat(127) + "c"), Some(&stored)).await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_load_counts_hashes_waiting_and_running() {
        let hasher = PasswordHasher::new(1);
        assert_eq!(hasher.load(), HashLoad { waiting: 0, running: 0 });
        let password = || Password::parse("correct horse battery".into()).unwrap();
        let (first, second) = (hasher.clone(), hasher.clone());
        let hashes = [
            tokio::spawn(async move { first.hash(&password()).await }),
            tokio::spawn(async move { second.hash(&password()).await }),
        ];
        let mut seen_busy = None;
        for _ in 0..200 {
            let load = hasher.load();
            if load == (HashLoad { waiting: 1, running: 1 }) {
                seen_busy = Some(load);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert_eq!(seen_busy, Some(HashLoad { waiting: 1, running: 1 }), "one hash runs, the other waits");
        for hash in hashes {
            hash.await.unwrap();
        }
        assert_eq!(hasher.load(), HashLoad { waiting: 0, running: 0 });
    }
}
