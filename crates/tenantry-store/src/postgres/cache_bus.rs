//! Cache changes between processes sharing a PostgreSQL database.
//!
//! A transaction's cache changes go out with `NOTIFY` as it commits (PostgreSQL delivers them
//! only if it does), tagged with this process's id and a sequence number. Each process keeps one
//! `LISTEN` connection, named `tenantry-cache:<node>` once it is listening. Before committing, a
//! transaction reads from `pg_stat_activity` which other processes are listening; each of them
//! applies the changes in its listening task, as it reads them, and then answers with an
//! acknowledgement on the same channel. `commit` returns only when every one of them has
//! answered, so by the time the request that made a change is answered, no other process will
//! serve an entry the change made stale. A process that does not answer in time (it hangs, or
//! the network between it and the database is gone) is waited for no longer than [`ACK_WAIT`]
//! and logged.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use sqlx::{AnyConnection, AnyPool};
use tenantry_core::store::CacheChange;
use tokio::sync::oneshot;

/// The `NOTIFY` channel of cache changes and their acknowledgements.
const CHANNEL: &str = "tenantry_cache";
/// What a listening connection calls itself, followed by its process's id.
const LISTENER_NAME_PREFIX: &str = "tenantry-cache:";
/// How long a commit waits for the other processes' acknowledgements before going on regardless.
const ACK_WAIT: Duration = Duration::from_secs(2);
/// The most a payload carries: PostgreSQL refuses payloads of 8,000 bytes or more.
const MAX_PAYLOAD: usize = 7_000;
/// A bound on a payload's size without its changes: the message kind, node id and sequence number.
const ENVELOPE_ROOM: usize = 128;

/// What the bus hears from other processes.
#[derive(Debug, Clone)]
pub enum Heard {
    Change(CacheChange),
    /// The listening connection dropped: changes may have been missed, so every cached entry
    /// must go.
    Gap,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Message {
    /// Changes one process committed.
    Changes { node: String, seq: u64, changes: Vec<CacheChange> },
    /// `node` has applied the changes `origin` sent as `seq`.
    Applied { origin: String, seq: u64, node: String },
}

/// What a process does with the changes other processes commit.
pub type Follower = Arc<dyn Fn(Heard) + Send + Sync>;

/// A commit waiting for the processes that were listening when it was sent.
struct Waiter {
    unanswered: HashSet<String>,
    done: oneshot::Sender<()>,
}

pub struct CacheBus {
    node: String,
    next: AtomicU64,
    waiting: Mutex<HashMap<u64, Waiter>>,
    follower: Mutex<Option<Follower>>,
    /// Whether the listening connection is up and named (readiness reports it).
    connected: std::sync::atomic::AtomicBool,
}

/// Changes sent in a transaction not yet committed: waited for after the commit, forgotten if
/// the transaction is dropped (rolled back) instead.
pub struct Sent {
    bus: Arc<CacheBus>,
    seq: u64,
    applied: Option<oneshot::Receiver<()>>,
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
            connected: std::sync::atomic::AtomicBool::new(true),
        });
        bus.name_listener(&mut listener).await?;
        tokio::spawn(bus.clone().listen(listener));
        Ok(bus)
    }

    /// Whether the listener is connected: while it is not, this process may miss other processes'
    /// cache changes (it empties its caches when it reconnects).
    pub fn is_connected(&self) -> bool {
        self.connected.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn set_connected(&self, connected: bool) {
        self.connected.store(connected, std::sync::atomic::Ordering::SeqCst);
    }

    /// Calls `apply` with every change other processes commit from now on, in the listening task.
    pub fn follow(&self, apply: Follower) {
        *self.lock_follower() = Some(apply);
    }

    fn lock_follower(&self) -> MutexGuard<'_, Option<Follower>> {
        self.follower.lock().expect("cache bus lock is never poisoned")
    }

    fn lock_waiting(&self) -> MutexGuard<'_, HashMap<u64, Waiter>> {
        self.waiting.lock().expect("cache bus lock is never poisoned")
    }

    /// Makes the listening connection visible to committing processes. Done only once it is
    /// listening, so that every process a commit waits for does receive the commit's changes.
    async fn name_listener(&self, listener: &mut PgListener) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT set_config('application_name', $1, false)")
            .bind(format!("{LISTENER_NAME_PREFIX}{}", self.node))
            .execute(listener)
            .await
            .map(drop)
    }

    /// Sends `changes` within the transaction on `conn` (delivered when it commits) and notes
    /// which other processes are listening, to wait for their acknowledgements after the commit.
    pub async fn send(
        self: &Arc<Self>,
        conn: &mut AnyConnection,
        changes: &[CacheChange],
    ) -> Result<Sent, sqlx::Error> {
        let payloads = self.payloads(changes);
        let (last_seq, last_payload) = payloads.last().expect("there is always at least one payload");
        for (_, payload) in &payloads[..payloads.len() - 1] {
            sqlx::query("SELECT pg_notify($1, $2)::text").bind(CHANNEL).bind(payload).execute(&mut *conn).await?;
        }
        // Asked in the same statement as the last notification, before the commit: a process
        // named here is listening already and so receives everything this commit sends.
        let (listening, _sent): (String, Option<String>) = sqlx::query_as(
            "SELECT COALESCE((SELECT string_agg(application_name, ',') FROM pg_stat_activity \
              WHERE datname = current_database() AND application_name LIKE $3), '') AS listening, \
              pg_notify($1, $2)::text AS sent",
        )
        .bind(CHANNEL)
        .bind(last_payload)
        .bind(format!("{LISTENER_NAME_PREFIX}%"))
        .fetch_one(&mut *conn)
        .await?;
        let unanswered: HashSet<String> = listening
            .split(',')
            .filter_map(|name| name.strip_prefix(LISTENER_NAME_PREFIX))
            .filter(|node| *node != self.node)
            .map(str::to_owned)
            .collect();
        // Only the last payload is waited for: a process applies one transaction's notifications
        // in the order they were sent, so its answer to the last covers them all.
        let applied = if unanswered.is_empty() {
            None
        } else {
            let (done, applied) = oneshot::channel();
            self.lock_waiting().insert(*last_seq, Waiter { unanswered, done });
            Some(applied)
        };
        Ok(Sent { bus: self.clone(), seq: *last_seq, applied })
    }

    /// How many other processes are listening on the database now: the nodes serving beside
    /// this one.
    pub async fn other_listeners(&self, pool: &AnyPool) -> Result<usize, sqlx::Error> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity \
              WHERE datname = current_database() AND application_name LIKE $1 AND application_name <> $2",
        )
        .bind(format!("{LISTENER_NAME_PREFIX}%"))
        .bind(format!("{LISTENER_NAME_PREFIX}{}", self.node))
        .fetch_one(pool)
        .await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// `changes` as numbered payloads that each fit in one notification. Each change is measured
    /// once; a payload's size is its changes' plus a bound on what surrounds them.
    fn payloads(&self, changes: &[CacheChange]) -> Vec<(u64, String)> {
        let mut payloads = Vec::new();
        let (mut batch, mut size) = (Vec::new(), ENVELOPE_ROOM);
        for change in changes {
            // The change and the comma after it.
            let length = serde_json::to_string(change).expect("cache changes serialise").len() + 1;
            if !batch.is_empty() && size + length > MAX_PAYLOAD {
                payloads.push(self.payload(std::mem::take(&mut batch)));
                size = ENVELOPE_ROOM;
            }
            batch.push(change.clone());
            size += length;
        }
        payloads.push(self.payload(batch));
        payloads
    }

    fn payload(&self, changes: Vec<CacheChange>) -> (u64, String) {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let message = Message::Changes { node: self.node.clone(), seq, changes };
        (seq, serde_json::to_string(&message).expect("cache changes serialise"))
    }

    fn answered(&self, seq: u64, node: &str) {
        let mut waiting = self.lock_waiting();
        let Some(waiter) = waiting.get_mut(&seq) else { return };
        waiter.unanswered.remove(node);
        if waiter.unanswered.is_empty() {
            let waiter = waiting.remove(&seq).expect("the waiter was just found");
            let _ = waiter.done.send(());
        }
    }

    fn forget(&self, seq: u64) -> Option<Waiter> {
        self.lock_waiting().remove(&seq)
    }

    fn hear(&self, heard: Heard) {
        let follower = self.lock_follower().clone();
        if let Some(apply) = follower {
            apply(heard);
        }
    }

    /// Applies another process's changes, then tells it so.
    async fn apply(
        &self,
        listener: &mut PgListener,
        origin: String,
        seq: u64,
        changes: Vec<CacheChange>,
    ) -> Result<(), sqlx::Error> {
        for change in changes {
            self.hear(Heard::Change(change));
        }
        let answer = Message::Applied { origin, seq, node: self.node.clone() };
        let payload = serde_json::to_string(&answer).expect("acknowledgements serialise");
        sqlx::query("SELECT pg_notify($1, $2)::text").bind(CHANNEL).bind(payload).execute(listener).await.map(drop)
    }

    async fn listen(self: Arc<Self>, mut listener: PgListener) {
        // Whether the current connection carries this process's name: a reconnected one does not
        // until it is named again.
        let mut named = true;
        loop {
            if !named {
                named = self.name_listener(&mut listener).await.is_ok();
                self.set_connected(named);
            }
            match listener.try_recv().await {
                Ok(Some(notification)) => match serde_json::from_str::<Message>(notification.payload()) {
                    Ok(Message::Changes { node, .. }) if node == self.node => {}
                    Ok(Message::Changes { node: origin, seq, changes }) => {
                        if let Err(error) = self.apply(&mut listener, origin, seq, changes).await {
                            tracing::warn!(%error, "could not acknowledge a cache change");
                            named = false;
                        }
                    }
                    Ok(Message::Applied { origin, seq, node }) if origin == self.node => self.answered(seq, &node),
                    Ok(Message::Applied { .. }) => {}
                    Err(error) => tracing::warn!(%error, "ignoring a cache notification that does not parse"),
                },
                Ok(None) => {
                    named = false;
                    self.set_connected(false);
                    self.hear(Heard::Gap);
                }
                Err(error) => {
                    tracing::warn!(%error, "the cache listener lost its connection; reconnecting");
                    named = false;
                    self.set_connected(false);
                    self.hear(Heard::Gap);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

impl Sent {
    /// After the commit: waits until every process that was listening has applied the changes.
    pub async fn applied(mut self) {
        let Some(applied) = self.applied.take() else { return };
        if tokio::time::timeout(ACK_WAIT, applied).await.is_err() {
            let late = self.bus.forget(self.seq).map(|waiter| waiter.unanswered.into_iter().collect::<Vec<_>>());
            tracing::warn!(?late, "cache changes not acknowledged in time; these nodes may see them late");
        }
    }
}

impl Drop for Sent {
    fn drop(&mut self) {
        if self.applied.is_some() {
            self.bus.forget(self.seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use tenantry_core::domain::ids::UserId;

    use super::*;

    fn bus() -> CacheBus {
        CacheBus {
            node: "node".into(),
            next: AtomicU64::new(0),
            waiting: Mutex::new(HashMap::new()),
            follower: Mutex::new(None),
            connected: std::sync::atomic::AtomicBool::new(true),
        }
    }

    #[test]
    fn many_changes_are_split_into_payloads_postgres_accepts_numbered_in_order() {
        let bus = bus();
        let changes: Vec<CacheChange> = (0..500).map(|_| CacheChange::UserSessions { user: UserId::new() }).collect();
        let payloads = bus.payloads(&changes);
        assert!(payloads.len() > 1);
        let mut carried = Vec::new();
        for (index, (seq, payload)) in payloads.iter().enumerate() {
            assert_eq!(*seq, index as u64);
            assert!(payload.len() <= MAX_PAYLOAD, "payload {index} is {} bytes", payload.len());
            let Ok(Message::Changes { changes, .. }) = serde_json::from_str(payload) else { panic!("{payload}") };
            carried.extend(changes);
        }
        assert_eq!(carried, changes);
    }

    #[test]
    fn a_commit_is_released_once_every_listening_node_has_answered() {
        let bus = bus();
        let (done, mut applied) = oneshot::channel();
        let unanswered = ["a", "b"].map(str::to_owned).into_iter().collect();
        bus.lock_waiting().insert(7, Waiter { unanswered, done });
        bus.answered(7, "a");
        bus.answered(6, "b");
        assert!(applied.try_recv().is_err(), "b has not answered this commit yet");
        bus.answered(7, "b");
        assert!(applied.try_recv().is_ok());
        assert!(bus.lock_waiting().is_empty());
    }
}
