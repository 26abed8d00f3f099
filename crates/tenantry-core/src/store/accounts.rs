//! Users, login sessions with their refresh tokens, and single-use email tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Stale, StoreResult};
use crate::domain::email::Email;
use crate::domain::ids::{OrgId, SessionId, UserId};
use crate::domain::models::{EmailTokenKind, RefreshToken, Session, User};

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait AccountsRead: Send {
    async fn user(&mut self, id: UserId) -> StoreResult<Option<User>>;
    async fn user_by_email(&mut self, email: &Email) -> StoreResult<Option<User>>;
    async fn session(&mut self, id: SessionId) -> StoreResult<Option<Session>>;
    async fn refresh_token(&mut self, hash: &str) -> StoreResult<Option<RefreshToken>>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait AccountsTx: AccountsRead {
    async fn insert_user(&mut self, user: &User) -> StoreResult<()>;
    async fn set_email_verified(&mut self, id: UserId, at: DateTime<Utc>) -> StoreResult<Stale>;
    async fn set_password_hash(&mut self, id: UserId, hash: &str) -> StoreResult<Stale>;
    async fn insert_session(&mut self, session: &Session) -> StoreResult<()>;
    async fn set_session_org(&mut self, id: SessionId, org: Option<OrgId>) -> StoreResult<()>;
    async fn revoke_session(&mut self, id: SessionId, at: DateTime<Utc>) -> StoreResult<Stale>;
    async fn revoke_user_sessions(&mut self, user: UserId, at: DateTime<Utc>) -> StoreResult<Stale>;
    /// Revokes every session of `user` but `keep`.
    async fn revoke_other_sessions(&mut self, user: UserId, keep: SessionId, at: DateTime<Utc>) -> StoreResult<Stale>;
    async fn insert_refresh_token(&mut self, token: &RefreshToken) -> StoreResult<()>;
    /// Marks the token used unless it already was; `false` means it had been used (reuse).
    async fn use_refresh_token(&mut self, hash: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    async fn insert_email_token(
        &mut self,
        kind: EmailTokenKind,
        hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Marks the token used if it is unused and unexpired at `now`, returning its user.
    async fn consume_email_token(
        &mut self,
        kind: EmailTokenKind,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>>;
}
