//! Cache changes between processes sharing a PostgreSQL database.
//!
//! A transaction announces each change with `NOTIFY` (delivered only if it commits), tagged with
//! this process's id and a sequence number. One `LISTEN` connection per process hears every
//! process's changes: other processes' changes go to the service to apply; this process's own
//! come back as an echo, and `commit` waits for that echo before returning. PostgreSQL hands a
//! notification to every listener at the same moment, and each process applies other processes'
//! changes in the listening task itself, as it reads them — the same step at which the committing
//! process reads its echo — so by the time a request that changed something is answered, every
//! other node has dropped the stale entries (save for delivery skew between hosts).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use tenantry_core::store::CacheChange;
use tokio::sync::oneshot;

/// The `NOTIFY` channel of cache changes.
const CHANNEL: &str = "tenantry_cache";
/// How long a commit waits for the echo of its announcements before going on regardless.
const ECHO_WAIT: Duration = Duration::from_secs(2);

/// What the bus hears from other processes.
#[derive(Debug, Clone)]
pub enum Heard {
    Change(CacheChange),
    /// The listening connection dropped: changes may have been missed, so every cached entry
    /// must go.
    Gap,
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    node: String,
    seq: u64,
    change: CacheChange,
}

pub struct CacheBus {
    node: String,
    next: AtomicU64,
    waiting: Mutex<HashMap<u64, oneshot::Sender<()>>>,
    follower: Mutex<Option<Follower>>,
}

/// What a process does with the changes other processes commit.
pub type Follower = Arc<dyn Fn(Heard) + Send + Sync>;

/// An announcement whose echo a commit waits for.
pub struct Announced {
    seq: u64,
    echo: oneshot::Receiver<()>,
}

impl CacheBus {
    /// Listens on `url` and keeps listening (reconnecting) for as long as the process runs.
    pub async fn start(url: &str) -> Result<Arc<Self>, sqlx::Error> {
        let mut listener = PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        let bus = Arc::new(Self {
            node: ulid::Ulid::new().to_string(),
            next: AtomicU64::new(0),
            waiting: Mutex::new(HashMap::new()),
            follower: Mutex::new(None),
        });
        tokio::spawn(bus.clone().listen(listener));
        Ok(bus)
    }

    /// Calls `apply` with every change other processes commit from now on, in the listening task.
    pub fn follow(&self, apply: Follower) {
        *self.follower.lock().expect("cache bus lock is never poisoned") = Some(apply);
    }

    fn hear(&self, heard: Heard) {
        let follower = self.follower.lock().expect("cache bus lock is never poisoned").clone();
        if let Some(apply) = follower {
            apply(heard);
        }
    }

    /// The `pg_notify` channel and payload announcing `change`, and the echo to wait for.
    pub fn announcement(&self, change: &CacheChange) -> (&'static str, String, Announced) {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let (sender, echo) = oneshot::channel();
        self.waiting.lock().expect("cache bus lock is never poisoned").insert(seq, sender);
        let envelope = Envelope { node: self.node.clone(), seq, change: change.clone() };
        let payload = serde_json::to_string(&envelope).expect("cache changes serialise");
        (CHANNEL, payload, Announced { seq, echo })
    }

    /// Waits (briefly) until every process has received the committed announcements.
    pub async fn settle(&self, announced: Vec<Announced>) {
        for Announced { seq, echo } in announced {
            if tokio::time::timeout(ECHO_WAIT, echo).await.is_err() {
                self.withdraw(seq);
                tracing::warn!(seq, "a cache change was not echoed in time; other nodes may see it late");
            }
        }
    }

    /// Stops waiting for an announcement that will never be sent (its transaction rolled back).
    pub fn withdraw(&self, seq: u64) {
        self.waiting.lock().expect("cache bus lock is never poisoned").remove(&seq);
    }

    async fn listen(self: Arc<Self>, mut listener: PgListener) {
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => match serde_json::from_str::<Envelope>(notification.payload()) {
                    Ok(envelope) if envelope.node == self.node => {
                        let waiter =
                            self.waiting.lock().expect("cache bus lock is never poisoned").remove(&envelope.seq);
                        if let Some(waiter) = waiter {
                            let _ = waiter.send(());
                        }
                    }
                    Ok(envelope) => self.hear(Heard::Change(envelope.change)),
                    Err(error) => tracing::warn!(%error, "ignoring a cache notification that does not parse"),
                },
                Ok(None) => self.hear(Heard::Gap),
                Err(error) => {
                    tracing::warn!(%error, "the cache listener lost its connection; reconnecting");
                    self.hear(Heard::Gap);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

/// A transaction's announcements: waited for at commit, withdrawn if the transaction is dropped
/// (rolled back) instead.
#[derive(Default)]
pub struct Announcements {
    bus: Option<Arc<CacheBus>>,
    pending: Vec<Announced>,
}

impl Announcements {
    pub fn push(&mut self, bus: &Arc<CacheBus>, announced: Announced) {
        self.bus = Some(bus.clone());
        self.pending.push(announced);
    }

    /// After the commit: waits until every process has them.
    pub async fn settle(mut self) {
        if let Some(bus) = self.bus.take() {
            bus.settle(std::mem::take(&mut self.pending)).await;
        }
    }
}

impl Drop for Announcements {
    fn drop(&mut self) {
        if let Some(bus) = &self.bus {
            for announced in &self.pending {
                bus.withdraw(announced.seq);
            }
        }
    }
}
