//! Outbound messages of SPEC 16: the dispatcher that fans committed events out to webhook
//! endpoints, the sender that attempts due deliveries (webhooks, Slack, Telegram), and the guard
//! that keeps webhook targets off private networks.

pub mod guard;
mod sender;

use std::sync::Arc;
use std::time::Duration;

use tenantry_core::Tenantry;

pub use sender::{Outbound, Sender};

/// How often the dispatcher looks for events even without being woken (events committed by
/// other nodes wake only their own node).
const DISPATCH_EVERY: Duration = Duration::from_secs(1);
/// The pause between two rounds while events keep coming, so each round fans out a batch
/// rather than each commit taking the write lock again.
const BATCH_PAUSE: Duration = Duration::from_millis(20);
/// How often events past their retention are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Fans events out to endpoints as they commit, until the process ends.
pub async fn dispatch(tenantry: Arc<Tenantry>) {
    let ready = tenantry.events_ready();
    loop {
        loop {
            match tenantry.events().dispatch_events().await {
                Ok(0) => break,
                Ok(_) => tokio::time::sleep(BATCH_PAUSE).await,
                Err(e) => {
                    tracing::error!(error = %e, "could not dispatch events to webhook endpoints");
                    break;
                }
            }
        }
        // At most one round per pause however many changes commit meanwhile (each wakes this).
        tokio::time::sleep(BATCH_PAUSE).await;
        let _ = tokio::time::timeout(DISPATCH_EVERY, ready.notified()).await;
    }
}

/// Deletes events older than 30 days, hourly.
pub async fn prune(tenantry: Arc<Tenantry>) {
    loop {
        match tenantry.events().prune_events().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "events past their retention deleted"),
            Err(e) => tracing::error!(error = %e, "could not prune the event log"),
        }
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}
