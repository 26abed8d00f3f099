//! Invitations to join an org. The store keeps at most one pending invitation per (org, email)
//! and one invitation per token hash; every state change is conditional on the state it leaves,
//! so two racing changes cannot both succeed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MaybeStale, Stale, StoreResult};
use crate::domain::email::Email;
use crate::domain::ids::{InvitationId, OrgId};
use crate::domain::invitation::{Invitation, InvitationState};
use crate::domain::pagination::PageRequest;

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait InvitationsRead: Send {
    async fn invitation(&mut self, org: OrgId, id: InvitationId) -> StoreResult<Option<Invitation>>;
    async fn invitation_by_token(&mut self, token_hash: &str) -> StoreResult<Option<Invitation>>;
    /// The stored-pending invitation of `email` to `org` (expired or not).
    async fn pending_invitation_for(&mut self, org: OrgId, email: &Email) -> StoreResult<Option<Invitation>>;
    /// Pending invitations of `org` whose expiry is after `now`.
    async fn count_pending_invitations(&mut self, org: OrgId, now: DateTime<Utc>) -> StoreResult<u64>;
    /// The org's invitations by id (creation order), after the page's cursor; only those in
    /// `state` at `now` when a state is given (pending and expired are told apart by expiry).
    async fn list_invitations(
        &mut self,
        org: OrgId,
        state: Option<InvitationState>,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> StoreResult<Vec<Invitation>>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait InvitationsTx: InvitationsRead {
    /// Fails with `StoreError::Unique` when the (org, email) already has a pending invitation.
    async fn insert_invitation(&mut self, invitation: &Invitation) -> StoreResult<Stale>;
    /// Moves the invitation from `from` to `to` (stamping `at` as its response time); nothing
    /// changed when it was no longer in `from`.
    async fn set_invitation_state(
        &mut self,
        org: OrgId,
        id: InvitationId,
        from: InvitationState,
        to: InvitationState,
        at: DateTime<Utc>,
    ) -> StoreResult<MaybeStale>;
    /// Gives the invitation a new token, expiry and inviter and makes it pending again, if it is
    /// still in `from`; nothing changed otherwise.
    async fn reissue_invitation(
        &mut self,
        org: OrgId,
        id: InvitationId,
        from: InvitationState,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        invited_by: &str,
    ) -> StoreResult<MaybeStale>;
}
