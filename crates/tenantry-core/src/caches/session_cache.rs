//! The in-memory cache behind authenticating access tokens: tokens whose signature was already
//! checked, and sessions known to be live (not revoked, their user active).
//!
//! A token's signature and claims never change, so a checked token is remembered until the cache
//! evicts it; its expiry is still compared with the clock on every request. A session's standing
//! does change: every revocation (logout, reuse of a refresh token, password reset, suspension)
//! calls `forget_*` after its transaction commits, before the request that made it returns, so
//! the next request with one of its tokens goes back to the database and is refused; a user's
//! sessions are forgotten together through their scope (`Scopes`). As in `GrantCache`, a
//! generation counter discards a fill that read the database before a concurrent revocation
//! committed.
//!
//! Once a token's session was found live, the token's own entry says so (`LiveProof`), and the
//! next request with it skips the live-session lookup: with 200,000 users signed in, each lookup
//! is most likely a trip to memory. The mark holds while its session's scope, its user's scope
//! and the cache's clears stay where they were when it was taken, which was before the session was
//! found live; every way a session stops being live moves one of them.

use quick_cache::sync::Cache;

use super::generation::Generation;
use super::lookups::{LookupCounts, Lookups};
use super::scopes::{Scopes, Stamp};

use crate::domain::ids::{OrgId, SessionId, UserId};

/// Tokens and sessions of 200,000 users active at once, with room to spare: bounded at exactly
/// the number in use, evictions would send a share of every user's requests back to a signature
/// check and a database read (measured: `/v1/me` of 200,000 users fell from 69% to 59% of
/// `health`).
const MAX_TOKENS: usize = 300_000;
const MAX_SESSIONS: usize = 300_000;

/// The claims of an access token whose signature and issuer were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedToken {
    pub user_id: UserId,
    pub session_id: SessionId,
    /// The org the token was issued for, if any.
    pub org_id: Option<OrgId>,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A checked token, and whether its session was found live (and under which stamps).
#[derive(Clone, Copy)]
struct KnownToken {
    token: CheckedToken,
    live: Option<LiveProof>,
}

/// The stamps of a session's scopes, taken before it was found live: while they hold, nothing
/// revoked it since.
#[derive(Debug, Clone, Copy)]
pub struct LiveProof {
    session: Stamp,
    user: Stamp,
    clears: u64,
}

pub struct SessionCache {
    /// By the token's SHA-256, so the cache holds no usable credential.
    tokens: Cache<[u8; 32], KnownToken>,
    /// Live sessions and their user, stamped with the user's scope.
    live: Cache<SessionId, (UserId, Stamp)>,
    users: Scopes,
    /// Each revoked session's scope moves, which ends the live marks of its tokens.
    sessions: Scopes,
    /// Moves when the live sessions are cleared, which ends every live mark.
    clears: Generation,
    generation: Generation,
    token_lookups: Lookups,
    live_lookups: Lookups,
}

impl Default for SessionCache {
    fn default() -> Self {
        Self {
            tokens: Cache::new(MAX_TOKENS),
            live: Cache::new(MAX_SESSIONS),
            users: Scopes::default(),
            sessions: Scopes::default(),
            clears: Generation::default(),
            generation: Generation::default(),
            token_lookups: Lookups::default(),
            live_lookups: Lookups::default(),
        }
    }
}

impl SessionCache {
    /// The token's claims, if its signature was checked before, and whether its session is
    /// known to be live (found live since anything last revoked it).
    pub fn checked_token(&self, token_hash: &[u8; 32]) -> Option<(CheckedToken, bool)> {
        let known = self.token_lookups.count(self.tokens.get(token_hash))?;
        Some((known.token, known.live.is_some_and(|proof| self.holds(proof))))
    }

    /// Each of the caches' hits and misses so far, by name.
    pub fn lookups(&self) -> impl Iterator<Item = (&'static str, LookupCounts)> {
        [("access_tokens", self.token_lookups.snapshot()), ("live_sessions", self.live_lookups.snapshot())].into_iter()
    }

    /// Remembers a checked token; with `live`, taken by [`Self::live_proof`] before its session
    /// was then found live, its next requests skip the live-session lookup.
    pub fn remember_token(&self, token_hash: [u8; 32], token: CheckedToken, live: Option<LiveProof>) {
        self.tokens.insert(token_hash, KnownToken { token, live });
    }

    /// Taken before checking that `session` is live, to pass to [`Self::remember_token`] if it is:
    /// a revocation after this point moves one of its stamps, and one before it has already
    /// removed the session from the live ones (see `forget_session`).
    pub fn live_proof(&self, session: SessionId, user: UserId) -> LiveProof {
        LiveProof { session: self.sessions.stamp(session), user: self.users.stamp(user), clears: self.clears.current() }
    }

    fn holds(&self, proof: LiveProof) -> bool {
        self.sessions.holds(proof.session) && self.users.holds(proof.user) && !self.clears.moved_since(proof.clears)
    }

    /// Read before a database lookup whose result will be passed to `fill_live`.
    pub fn generation(&self) -> u64 {
        self.generation.current()
    }

    /// True when `session` is known to be live and to belong to `user`.
    pub fn is_live(&self, session: SessionId, user: UserId) -> bool {
        let live = self.live.get(&session).filter(|(_, stamp)| self.users.holds(*stamp));
        self.live_lookups.count(live).is_some_and(|(owner, _)| owner == user)
    }

    pub fn fill_live(&self, session: SessionId, user: UserId, seen: u64) {
        self.live.insert(session, (user, self.users.stamp(user)));
        if self.generation.moved_since(seen) {
            self.live.remove(&session);
        }
    }

    /// After `session` was revoked.
    pub fn forget_session(&self, session: SessionId) {
        self.generation.advance();
        // Removed before its scope moves: a proof stamped after the move then cannot find the
        // session still among the live ones.
        self.live.remove(&session);
        self.sessions.forget(session);
    }

    /// After every session of `user` was revoked, or the user was suspended or unsuspended.
    pub fn forget_user(&self, user: UserId) {
        self.generation.advance();
        self.users.forget(user);
    }

    pub fn clear(&self) {
        self.generation.advance();
        // As in `forget_session`: the live ones go before the proofs end.
        self.live.clear();
        self.clears.advance();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fill_that_read_before_a_revocation_is_discarded() {
        let cache = SessionCache::default();
        let (session, user) = (SessionId::new(), UserId::new());
        let seen = cache.generation();
        cache.forget_session(session);
        cache.fill_live(session, user, seen);
        assert!(!cache.is_live(session, user));

        let seen = cache.generation();
        cache.fill_live(session, user, seen);
        assert!(cache.is_live(session, user));
        assert!(!cache.is_live(session, UserId::new()), "a session is live only for its own user");
    }

    #[test]
    fn forgetting_a_user_forgets_each_of_their_sessions_and_no_one_elses() {
        let cache = SessionCache::default();
        let user = UserId::new();
        let someone = cache.users.apart_from(&user, UserId::new);
        let (first, second, other) = (SessionId::new(), SessionId::new(), SessionId::new());
        let seen = cache.generation();
        cache.fill_live(first, user, seen);
        cache.fill_live(second, user, seen);
        cache.fill_live(other, someone, seen);
        cache.forget_user(user);
        assert!(!cache.is_live(first, user));
        assert!(!cache.is_live(second, user));
        assert!(cache.is_live(other, someone));
    }

    #[test]
    fn forgetting_one_session_leaves_the_users_others() {
        let cache = SessionCache::default();
        let user = UserId::new();
        let (gone, kept) = (SessionId::new(), SessionId::new());
        let seen = cache.generation();
        cache.fill_live(gone, user, seen);
        cache.fill_live(kept, user, seen);
        cache.forget_session(gone);
        assert!(!cache.is_live(gone, user));
        assert!(cache.is_live(kept, user));
    }

    /// A token of `session`, checked, and remembered as live under a proof taken now.
    fn found_live(cache: &SessionCache, session: SessionId, user: UserId) -> [u8; 32] {
        let mut hash = [0; 32];
        hash[..16].copy_from_slice(&session.ulid().to_bytes());
        let token = CheckedToken { user_id: user, session_id: session, org_id: None, expires_at: i64::MAX };
        let proof = cache.live_proof(session, user);
        cache.remember_token(hash, token, Some(proof));
        hash
    }

    fn known_live(cache: &SessionCache, hash: &[u8; 32]) -> bool {
        cache.checked_token(hash).expect("the token is remembered").1
    }

    #[test]
    fn a_token_is_known_live_until_its_session_is_revoked() {
        let cache = SessionCache::default();
        let user = UserId::new();
        let session = SessionId::new();
        let other = cache.sessions.apart_from(&session, SessionId::new);
        let (revoked, kept) = (found_live(&cache, session, user), found_live(&cache, other, user));
        assert!(known_live(&cache, &revoked) && known_live(&cache, &kept));
        cache.forget_session(session);
        assert!(!known_live(&cache, &revoked), "a revoked session's token goes back to the session check");
        assert!(known_live(&cache, &kept));
    }

    #[test]
    fn a_token_is_known_live_until_its_user_is_forgotten_or_the_cache_cleared() {
        let cache = SessionCache::default();
        let user = UserId::new();
        let someone = cache.users.apart_from(&user, UserId::new);
        let (mine, theirs) =
            (found_live(&cache, SessionId::new(), user), found_live(&cache, SessionId::new(), someone));
        cache.forget_user(user);
        assert!(!known_live(&cache, &mine));
        assert!(known_live(&cache, &theirs));
        cache.clear();
        assert!(!known_live(&cache, &theirs));
    }

    #[test]
    fn a_proof_taken_before_a_revocation_marks_nothing_live() {
        let cache = SessionCache::default();
        let (session, user) = (SessionId::new(), UserId::new());
        let seen = cache.generation();
        cache.fill_live(session, user, seen);
        // The request checks the session as live, then a logout lands before it remembers so.
        let proof = cache.live_proof(session, user);
        assert!(cache.is_live(session, user));
        cache.forget_session(session);
        let hash = [7; 32];
        let token = CheckedToken { user_id: user, session_id: session, org_id: None, expires_at: i64::MAX };
        cache.remember_token(hash, token, Some(proof));
        assert!(!known_live(&cache, &hash));
        assert!(!cache.is_live(session, user));
    }
}
