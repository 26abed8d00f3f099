//! The instance administrator's reads across orgs and users, and account suspension.

use async_trait::async_trait;

use super::{MaybeStale, StoreResult};
use crate::domain::ids::UserId;
use crate::domain::models::{Org, User, UserStatus};
use crate::domain::pagination::PageRequest;

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait AdminRead: Send {
    /// Orgs by id whose slug or name contains `query` (ignoring ASCII case); all when `None`.
    async fn search_orgs(&mut self, query: Option<&str>, page: &PageRequest) -> StoreResult<Vec<Org>>;
    /// Users by id whose email or display name contains `query` (ignoring ASCII case); all when `None`.
    async fn search_users(&mut self, query: Option<&str>, page: &PageRequest) -> StoreResult<Vec<User>>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait AdminTx: AdminRead {
    /// Sets the user's status; `false` when there is no such user.
    /// `None` when there is no such user.
    async fn set_user_status(&mut self, user: UserId, status: UserStatus) -> StoreResult<MaybeStale>;
}
