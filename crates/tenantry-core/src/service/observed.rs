//! What the metrics read of the services: each cache's hits and misses, the password hasher's
//! queue, and the messages waiting to go out.

use super::{Result, Tenantry};
use crate::caches::lookups::LookupCounts;
use crate::domain::password::HashLoad;

/// Messages queued and not yet sent (nor given up on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    pub emails: u64,
    /// Webhook deliveries and org notifications.
    pub deliveries: u64,
}

impl Tenantry {
    /// Every cache's hits and misses since start, by the cache's name.
    pub fn cache_lookups(&self) -> Vec<(&'static str, LookupCounts)> {
        let mut lookups: Vec<_> = self.grants.lookups().collect();
        lookups.extend(self.keys.lookups());
        lookups.extend(self.session_cache.lookups());
        lookups.push(("member_pages", self.member_pages.lookups()));
        lookups.push(("pending_invitations", self.pending_invitations.lookups()));
        lookups.extend(self.me_cache.lookups());
        lookups
    }

    /// Password hashes waiting for a turn, and those being computed.
    pub fn password_hash_load(&self) -> HashLoad {
        self.passwords.load()
    }

    /// What the mailer and the webhook sender still have to send.
    pub async fn backlog(&self) -> Result<Backlog> {
        let mut read = self.store.read().await?;
        let emails = read.pending_outbox().await?;
        let deliveries = read.pending_deliveries().await?;
        Ok(Backlog { emails, deliveries })
    }
}
