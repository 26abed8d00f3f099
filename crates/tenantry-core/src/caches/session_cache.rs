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

pub struct SessionCache {
    /// By the token's SHA-256, so the cache holds no usable credential.
    tokens: Cache<[u8; 32], CheckedToken>,
    /// Live sessions and their user, stamped with the user's scope.
    live: Cache<SessionId, (UserId, Stamp)>,
    users: Scopes,
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
            generation: Generation::default(),
            token_lookups: Lookups::default(),
            live_lookups: Lookups::default(),
        }
    }
}

impl SessionCache {
    pub fn checked_token(&self, token_hash: &[u8; 32]) -> Option<CheckedToken> {
        self.token_lookups.count(self.tokens.get(token_hash))
    }

    /// Each of the caches' hits and misses so far, by name.
    pub fn lookups(&self) -> impl Iterator<Item = (&'static str, LookupCounts)> {
        [("access_tokens", self.token_lookups.snapshot()), ("live_sessions", self.live_lookups.snapshot())].into_iter()
    }

    pub fn remember_token(&self, token_hash: [u8; 32], token: CheckedToken) {
        self.tokens.insert(token_hash, token);
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
        self.live.remove(&session);
    }

    /// After every session of `user` was revoked, or the user was suspended or unsuspended.
    pub fn forget_user(&self, user: UserId) {
        self.generation.advance();
        self.users.forget(user);
    }

    pub fn clear(&self) {
        self.generation.advance();
        self.live.clear();
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
}
