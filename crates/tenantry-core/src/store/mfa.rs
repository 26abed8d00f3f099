//! Multi-factor authentication: users' TOTP enrolments, recovery codes and the pending second
//! steps of logins; and the sessions list.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Stale, StoreResult};
use crate::domain::ids::{OrgId, SessionId, UserId};
use crate::domain::models::{Member, Session};

/// A user's TOTP enrolment as stored.
#[derive(Debug, Clone)]
pub struct StoredTotp {
    /// The secret sealed with the instance's MFA key.
    pub sealed: String,
    /// `None` while the enrolment waits for its first code.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The last step whose code was accepted (0: none yet).
    pub last_step: u64,
}

/// The second step of a login, waiting for a code.
#[derive(Debug, Clone)]
pub struct MfaChallenge {
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
    pub attempts: u32,
    pub used: bool,
}

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait MfaRead: Send {
    async fn totp(&mut self, user: UserId) -> StoreResult<Option<StoredTotp>>;
    /// Whether `user` has a confirmed TOTP enrolment.
    async fn has_mfa(&mut self, user: UserId) -> StoreResult<bool>;
    /// Members of `org` without a confirmed enrolment, in membership order, at most `limit`.
    async fn members_without_mfa(&mut self, org: OrgId, limit: u32) -> StoreResult<Vec<Member>>;
    /// How many of the user's recovery codes are unused.
    async fn unused_recovery_codes(&mut self, user: UserId) -> StoreResult<u32>;
    async fn mfa_challenge(&mut self, token_hash: &str) -> StoreResult<Option<MfaChallenge>>;
    /// The user's sessions that are not revoked, newest first.
    async fn live_sessions(&mut self, user: UserId) -> StoreResult<Vec<Session>>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait MfaTx: MfaRead {
    /// Starts (or restarts) an unconfirmed enrolment; a confirmed one is left alone (`false`).
    async fn put_pending_totp(&mut self, user: UserId, sealed: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Confirms the pending enrolment with the step of its first code.
    async fn confirm_totp(&mut self, user: UserId, step: u64, at: DateTime<Utc>) -> StoreResult<Stale>;
    /// Records `step` as used if it is later than the last used one; `false` means the code was
    /// already used (a replay, possibly a concurrent one).
    async fn use_totp_step(&mut self, user: UserId, step: u64) -> StoreResult<bool>;
    /// Removes the enrolment and its recovery codes; `None` if there was none.
    async fn delete_totp(&mut self, user: UserId) -> StoreResult<Option<Stale>>;
    /// Replaces the user's recovery codes.
    async fn replace_recovery_codes(&mut self, user: UserId, hashes: &[String]) -> StoreResult<()>;
    /// Marks an unused code used; `false` if there is no such unused code.
    async fn use_recovery_code(&mut self, user: UserId, hash: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    async fn insert_mfa_challenge(
        &mut self,
        token_hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Counts one attempt on the challenge and returns how many there have been.
    async fn count_mfa_attempt(&mut self, token_hash: &str) -> StoreResult<u32>;
    /// Marks the challenge used unless it already was; `false` if it was.
    async fn use_mfa_challenge(&mut self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Forgets challenges that expired before `before`.
    async fn prune_mfa_challenges(&mut self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Notes that the session issued tokens at `at`.
    async fn touch_session(&mut self, id: SessionId, at: DateTime<Utc>) -> StoreResult<()>;
    /// Revokes one of `user`'s sessions; `None` if they have no such live session.
    async fn revoke_session_of(&mut self, user: UserId, id: SessionId, at: DateTime<Utc>)
        -> StoreResult<Option<Stale>>;
}
