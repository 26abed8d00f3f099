//! The persistence contract. Services open a transaction, read and write through it, and commit;
//! a store runs SQL and keeps data consistent (unique keys, counters), but never decides whether
//! something is allowed — every rule lives in the services.
//!
//! A transaction's operations are grouped by capability, one module each, so each store
//! implements them in a module of the same name. Each capability has two traits: its reads
//! (`OrgsRead`) and its writes (`OrgsTx`, which extends the reads). [`ReadTx`] is every read and
//! is all that [`Store::read`] hands out; [`Tx`] is everything, for write transactions.

mod accounts;
mod admin;
mod api_keys;
mod audit;
mod events;
mod instance;
mod invitations;
mod mfa;
mod orgs;
mod outbox;
mod ownership;
mod plans;
mod roles;
mod settings;
mod teams;
mod usage;
mod webhooks;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::ids::{ApiKeyId, OrgId, SessionId, UserId};

pub use accounts::{AccountsRead, AccountsTx};
pub use admin::{AdminRead, AdminTx};
pub use api_keys::{ApiKeysRead, ApiKeysTx, KeyWithPlan};
pub use audit::{AuditRead, AuditTx};
pub use events::{EventsRead, EventsTx};
pub use instance::{InstanceRead, InstanceTx};
pub use invitations::{InvitationsRead, InvitationsTx};
pub use mfa::{MfaChallenge, MfaRead, MfaTx, StoredTotp};
pub use orgs::{OrgsRead, OrgsTx};
pub use outbox::{OutboxRead, OutboxTx, UNFINISHED_ATTEMPT};
pub use ownership::{OwnershipRead, OwnershipTx};
pub use plans::{PlansRead, PlansTx};
pub use roles::{RolesRead, RolesTx};
pub use settings::{SettingsRead, SettingsTx};
pub use teams::{TeamsRead, TeamsTx};
pub use usage::{UsageRead, UsageTx};
pub use webhooks::{WebhooksRead, WebhooksTx};

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
    /// It offers no write method.
    async fn read(&self) -> StoreResult<Box<dyn ReadTx>>;
    /// How many other processes serve from this database right now (none on SQLite, which one
    /// process owns).
    async fn other_nodes(&self) -> StoreResult<usize>;
}

/// Every read of every capability (a store implements it with an empty `impl`).
pub trait ReadTx:
    AccountsRead
    + OrgsRead
    + RolesRead
    + InvitationsRead
    + ApiKeysRead
    + OutboxRead
    + InstanceRead
    + AuditRead
    + PlansRead
    + UsageRead
    + SettingsRead
    + OwnershipRead
    + AdminRead
    + TeamsRead
    + EventsRead
    + WebhooksRead
    + MfaRead
    + Send
{
}

/// One write transaction: every read and every write. Dropping it without `commit` rolls back.
#[async_trait]
pub trait Tx:
    ReadTx
    + AccountsTx
    + OrgsTx
    + RolesTx
    + InvitationsTx
    + ApiKeysTx
    + OutboxTx
    + InstanceTx
    + AuditTx
    + PlansTx
    + UsageTx
    + SettingsTx
    + OwnershipTx
    + AdminTx
    + TeamsTx
    + EventsTx
    + WebhooksTx
    + MfaTx
    + Send
{
    async fn commit(self: Box<Self>) -> StoreResult<()>;
    /// Tells every process sharing the database to apply `change` to its caches, if and when
    /// this transaction commits.
    async fn announce(&mut self, change: &CacheChange) -> StoreResult<()>;
}

/// What a write made stale in the processes' caches. The store's writes to cached data return
/// one, and it must be handed to the unit of work (`Write::invalidate`): an unused `Stale` is a
/// compile error (`unused_must_use` is denied in the workspace), so a write cannot forget to
/// invalidate what it changed.
#[must_use = "hand it to the unit of work (`invalidate`), or other processes keep serving the old data"]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale(CacheChange);

impl Stale {
    pub fn new(change: CacheChange) -> Self {
        Self(change)
    }

    pub fn into_change(self) -> CacheChange {
        self.0
    }
}

/// What a write that may find nothing to change made stale: [`Stale`] when it changed something.
/// Must be used like `Stale` (an `Option<Stale>` would not be: the compiler's `must_use` does not
/// look inside an `Option`).
#[must_use = "hand what it holds to the unit of work (`invalidate`), or other processes keep serving the old data"]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaybeStale(Option<Stale>);

impl MaybeStale {
    /// Whether the write changed something.
    pub fn changed(&self) -> bool {
        self.0.is_some()
    }

    /// The `Stale` of a write that changed something, else `error`.
    pub fn ok_or<E>(self, error: E) -> Result<Stale, E> {
        self.0.ok_or(error)
    }

    pub fn into_option(self) -> Option<Stale> {
        self.0
    }
}

impl From<Option<Stale>> for MaybeStale {
    fn from(stale: Option<Stale>) -> Self {
        Self(stale)
    }
}

impl IntoIterator for MaybeStale {
    type Item = Stale;
    type IntoIter = std::option::IntoIter<Stale>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// A change to data that processes cache in memory: each one drops what it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CacheChange {
    /// A user's membership in an org, or one of their team memberships in it, was added, changed
    /// or removed (adding or removing one also moves the org's seat count).
    Member { org: OrgId, user: UserId },
    /// An org's own row changed: its name or metadata, its owner or its billing customer.
    Org { org: OrgId },
    /// An org's custom roles changed (and members may have moved between roles).
    OrgRoles { org: OrgId },
    /// An invitation to the org was created, resent or answered (accepted, declined, revoked).
    OrgInvitations { org: OrgId },
    /// An API key was created, rolled or revoked.
    Key { id: ApiKeyId, secret_hash: String },
    /// An org's plan changed (and with it its keys' rate limit).
    OrgPlan { org: OrgId },
    /// A team of the org was created, renamed or deleted (and with a deletion, its memberships).
    OrgTeams { org: OrgId },
    /// An org was deleted; its slug is free again.
    OrgDeleted { org: OrgId, slug: String },
    /// A user was suspended or unsuspended (suspension also revokes their sessions).
    UserStatus { user: UserId },
    /// Another column of a user's row changed: their address was verified, their password set.
    User { user: UserId },
    /// A session was revoked: logout, or reuse of one of its refresh tokens.
    Session { id: SessionId },
    /// Every session of a user was revoked (password reset).
    UserSessions { user: UserId },
    /// A user enrolled in MFA or lost it (disabled, reset by the admin): orgs that require MFA
    /// admit or refuse them from the next request.
    UserMfa { user: UserId },
    /// An org's security settings changed (whether it requires MFA of its members).
    OrgSecurity { org: OrgId },
}
