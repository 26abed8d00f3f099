//! The persistence contract. Services open a transaction, read and write through it, and commit;
//! a store runs SQL and keeps data consistent (unique keys, counters), but never decides whether
//! something is allowed — every rule lives in the services.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::audit::AuditEvent;
use crate::domain::email::Email;
use crate::domain::ids::{MessageId, OrgId, SessionId, UserId};
use crate::domain::models::{
    CustomRole, EmailTokenKind, Member, Membership, Org, OrgWithRole, OutboxMessage, RefreshToken, Session, SigningKey,
    User,
};
use crate::domain::pagination::PageRequest;
use crate::domain::slug::Slug;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; the payload names it (e.g. `orgs.slug`).
    #[error("unique constraint {0} violated")]
    Unique(String),
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait Store: Send + Sync {
    /// A write transaction. On SQLite it is `BEGIN IMMEDIATE`: it holds the write lock from the
    /// start, so a read-then-write transaction can never fail to upgrade.
    async fn write(&self) -> StoreResult<Box<dyn Tx>>;
    /// A connection for reads. Each statement sees committed data; no snapshot spans statements.
    async fn read(&self) -> StoreResult<Box<dyn Tx>>;
}

/// One unit of work. Dropping it without `commit` rolls back.
#[async_trait]
pub trait Tx: Send {
    async fn commit(self: Box<Self>) -> StoreResult<()>;

    // Users
    async fn insert_user(&mut self, user: &User) -> StoreResult<()>;
    async fn user(&mut self, id: UserId) -> StoreResult<Option<User>>;
    async fn user_by_email(&mut self, email: &Email) -> StoreResult<Option<User>>;
    async fn set_email_verified(&mut self, id: UserId, at: DateTime<Utc>) -> StoreResult<()>;
    async fn set_password_hash(&mut self, id: UserId, hash: &str) -> StoreResult<()>;

    // Orgs
    async fn insert_org(&mut self, org: &Org) -> StoreResult<()>;
    async fn org(&mut self, id: OrgId) -> StoreResult<Option<Org>>;
    async fn org_by_slug(&mut self, slug: &str) -> StoreResult<Option<Org>>;
    /// Writes `name` and `metadata`; nothing else of an org changes through this call.
    async fn update_org_profile(&mut self, org: &Org) -> StoreResult<()>;
    /// The user's orgs with their role, oldest membership first (keyed by membership id); all of
    /// them when `page` is `None`.
    async fn orgs_of_user(&mut self, user: UserId, page: Option<&PageRequest>) -> StoreResult<Vec<OrgWithRole>>;
    /// All orgs, by id.
    async fn list_orgs(&mut self, page: &PageRequest) -> StoreResult<Vec<Org>>;
    async fn slug_exists(&mut self, slug: &Slug) -> StoreResult<bool>;

    // Memberships
    /// Inserts the membership and counts the seat.
    async fn insert_membership(&mut self, membership: &Membership) -> StoreResult<()>;
    async fn membership(&mut self, org: OrgId, user: UserId) -> StoreResult<Option<Membership>>;
    /// Members of an org by membership id (join order), after the page's cursor.
    async fn list_members(&mut self, org: OrgId, page: &PageRequest) -> StoreResult<Vec<Member>>;
    async fn member(&mut self, org: OrgId, user: UserId) -> StoreResult<Option<Member>>;
    /// Sets the role of an existing membership; `false` when there is none.
    async fn set_member_role(&mut self, org: OrgId, user: UserId, role: &str) -> StoreResult<bool>;
    /// Deletes the membership and frees the seat; `false` when there is none.
    async fn delete_membership(&mut self, org: OrgId, user: UserId) -> StoreResult<bool>;
    async fn count_members_with_role(&mut self, org: OrgId, role: &str) -> StoreResult<u64>;
    /// Moves every member holding `from` to `to`, returning how many moved.
    async fn reassign_role(&mut self, org: OrgId, from: &str, to: &str) -> StoreResult<u64>;

    // Custom roles
    async fn custom_roles(&mut self, org: OrgId) -> StoreResult<Vec<CustomRole>>;
    async fn insert_custom_role(&mut self, role: &CustomRole) -> StoreResult<()>;
    /// Writes `name` and `permissions` of the role with `role.key` in `role.org_id`.
    async fn update_custom_role(&mut self, role: &CustomRole) -> StoreResult<()>;
    async fn delete_custom_role(&mut self, org: OrgId, key: &str) -> StoreResult<bool>;

    // Sessions and refresh tokens
    async fn insert_session(&mut self, session: &Session) -> StoreResult<()>;
    async fn session(&mut self, id: SessionId) -> StoreResult<Option<Session>>;
    async fn set_session_org(&mut self, id: SessionId, org: Option<OrgId>) -> StoreResult<()>;
    async fn revoke_session(&mut self, id: SessionId, at: DateTime<Utc>) -> StoreResult<()>;
    async fn revoke_user_sessions(&mut self, user: UserId, at: DateTime<Utc>) -> StoreResult<()>;
    async fn insert_refresh_token(&mut self, token: &RefreshToken) -> StoreResult<()>;
    async fn refresh_token(&mut self, hash: &str) -> StoreResult<Option<RefreshToken>>;
    /// Marks the token used unless it already was; `false` means it had been used (reuse).
    async fn use_refresh_token(&mut self, hash: &str, at: DateTime<Utc>) -> StoreResult<bool>;

    // Single-use email tokens
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

    // Email outbox
    async fn insert_outbox(&mut self, message: &OutboxMessage) -> StoreResult<()>;
    /// Newest first, by id.
    async fn list_outbox(&mut self, page: &PageRequest) -> StoreResult<Vec<OutboxMessage>>;
    /// Unsent messages whose next attempt is due at `now`, oldest first.
    async fn due_outbox(&mut self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<OutboxMessage>>;
    async fn mark_outbox_sent(&mut self, id: MessageId, at: DateTime<Utc>) -> StoreResult<()>;
    async fn mark_outbox_failed(
        &mut self,
        id: MessageId,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()>;

    // Instance state
    async fn signing_key(&mut self) -> StoreResult<Option<SigningKey>>;
    async fn insert_signing_key(&mut self, key: &SigningKey) -> StoreResult<()>;
    async fn instance_secret(&mut self, name: &str) -> StoreResult<Option<String>>;
    async fn set_instance_secret(&mut self, name: &str, value: &str) -> StoreResult<()>;

    // Audit
    /// The hash of the newest event of `org`'s chain (`None`: the instance chain).
    async fn last_audit_hash(&mut self, org: Option<OrgId>) -> StoreResult<Option<String>>;
    /// Appends `event` after the chain link `prev_hash` (empty for a chain's first event).
    async fn insert_audit(&mut self, event: &AuditEvent, prev_hash: &str, hash: &str) -> StoreResult<()>;
}
