//! The persistence contract. Services open a transaction, read and write through it, and commit;
//! a store runs SQL and keeps data consistent (unique keys, counters), but never decides whether
//! something is allowed — every rule lives in the services.
//!
//! A transaction's operations are grouped by capability, one trait per module, so each store
//! implements them in a module of the same name; [`Tx`] is all of them together.

mod accounts;
mod admin;
mod api_keys;
mod audit;
mod instance;
mod invitations;
mod orgs;
mod outbox;
mod ownership;
mod plans;
mod roles;
mod settings;
mod usage;

use async_trait::async_trait;

pub use accounts::AccountsTx;
pub use admin::AdminTx;
pub use api_keys::{ApiKeysTx, KeyWithPlan};
pub use audit::AuditTx;
pub use instance::InstanceTx;
pub use invitations::InvitationsTx;
pub use orgs::OrgsTx;
pub use outbox::OutboxTx;
pub use ownership::OwnershipTx;
pub use plans::PlansTx;
pub use roles::RolesTx;
pub use settings::SettingsTx;
pub use usage::UsageTx;

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
pub trait Tx:
    AccountsTx
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
    + Send
{
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}
