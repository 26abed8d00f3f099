//! The event log for host apps and the dispatcher's place in it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use tenantry_core::domain::host_event::{EventPosition, EventTypes, HostEvent, LoggedEvent};
use tenantry_core::domain::ids::EventId;
use tenantry_core::store::{EventsRead, EventsTx, StoreResult};

use super::SqlTx;
use crate::rows::{self, ms};
use crate::{db_err, Backend};

const EVENT_COLUMNS: &str = "seq, tx, id, type, org_id, occurred_at, data";

fn logged(row: &AnyRow) -> StoreResult<LoggedEvent> {
    let data: String = rows::get(row, "data")?;
    Ok(LoggedEvent {
        position: EventPosition { tx: rows::get(row, "tx")?, seq: rows::get(row, "seq")? },
        event: HostEvent {
            id: rows::id(row, "id")?,
            event_type: rows::get(row, "type")?,
            org_id: rows::opt_id(row, "org_id")?,
            occurred_at: rows::time(row, "occurred_at")?,
            data: serde_json::from_str(&data).map_err(|_| rows::corrupt("event data"))?,
        },
    })
}

/// `text` as a LIKE pattern matching itself literally, then anything.
fn prefix_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl SqlTx {
    /// The condition that hides events of transactions that may still commit behind a reader's
    /// cursor. On PostgreSQL, a transaction older than the oldest one still running has ended;
    /// SQLite commits one writer at a time, in `seq` order, so everything committed is final.
    fn settled(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => "tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
            Backend::Sqlite => "1 = 1",
        }
    }
}

#[async_trait]
impl EventsRead for SqlTx {
    async fn event_position(&mut self, id: EventId) -> StoreResult<Option<EventPosition>> {
        self.all_orgs(true).await?;
        let found: Option<(i64, i64)> = sqlx::query_as("SELECT tx, seq FROM events WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        self.all_orgs(false).await?;
        Ok(found.map(|(tx, seq)| EventPosition { tx, seq }))
    }

    async fn events_after(
        &mut self,
        after: EventPosition,
        types: &EventTypes,
        limit: u32,
    ) -> StoreResult<Vec<LoggedEvent>> {
        let (exact, prefixes) = types.split();
        let mut wanted: Vec<String> = Vec::new();
        let mut args: Vec<String> = Vec::new();
        for t in &exact {
            args.push((*t).to_owned());
            wanted.push(format!("type = ${}", args.len() + 3));
        }
        for p in &prefixes {
            args.push(prefix_pattern(p));
            wanted.push(format!("type LIKE ${} ESCAPE '\\'", args.len() + 3));
        }
        let type_filter = if wanted.is_empty() { String::new() } else { format!("AND ({})", wanted.join(" OR ")) };
        // SQLite's `tx` is always 0, so its order is `seq` alone: the primary key, no index to
        // keep on every insert.
        let after_cursor = match self.backend {
            Backend::Postgres => "(tx > $1 OR (tx = $1 AND seq > $2))",
            Backend::Sqlite => "tx = $1 AND seq > $2",
        };
        let order = match self.backend {
            Backend::Postgres => "tx, seq",
            Backend::Sqlite => "seq",
        };
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE {after_cursor} AND {} {type_filter} ORDER BY {order} LIMIT $3",
            self.settled()
        );
        let mut query = sqlx::query(&sql).bind(after.tx).bind(after.seq).bind(i64::from(limit));
        for arg in args {
            query = query.bind(arg);
        }
        self.all_orgs(true).await?;
        let found = query.fetch_all(self.conn()).await.map_err(db_err);
        self.all_orgs(false).await?;
        found?.iter().map(logged).collect()
    }
}

#[async_trait]
impl EventsTx for SqlTx {
    async fn insert_event(&mut self, event: &HostEvent) -> StoreResult<()> {
        let query = sqlx::query("INSERT INTO events (id, type, org_id, occurred_at, data) VALUES ($1, $2, $3, $4, $5)")
            .bind(event.id.to_string())
            .bind(event.event_type.clone())
            .bind(event.org_id.map(|o| o.to_string()))
            .bind(ms(event.occurred_at))
            .bind(event.data.to_string());
        let conn = match event.org_id {
            Some(org) => self.in_org(org).await?,
            None => self.conn(),
        };
        query.execute(conn).await.map_err(db_err)?;
        Ok(())
    }

    async fn prune_events(&mut self, before: DateTime<Utc>) -> StoreResult<u64> {
        // Events are written in time order, so the old ones are a prefix of `seq`: the first
        // event young enough to keep is found by walking the primary key from the oldest, which
        // reads only the rows about to go (no index on the time to keep up on every insert). The
        // newest event always stays, so a `seq` is never handed out twice (see the migration
        // 0014_event_indexes.sql).
        self.all_orgs(true).await?;
        let first_kept: Result<Option<i64>, _> =
            sqlx::query_scalar("SELECT seq FROM events WHERE occurred_at >= $1 ORDER BY seq LIMIT 1")
                .bind(ms(before))
                .fetch_optional(self.conn())
                .await
                .map_err(db_err);
        let done = match first_kept {
            Ok(Some(seq)) => {
                sqlx::query("DELETE FROM events WHERE seq < $1").bind(seq).execute(self.conn()).await.map_err(db_err)
            }
            // All are old: all go but the newest, whose `seq` SQLite's next rowid follows.
            Ok(None) => sqlx::query("DELETE FROM events WHERE seq < (SELECT MAX(seq) FROM events)")
                .execute(self.conn())
                .await
                .map_err(db_err),
            Err(e) => Err(e),
        };
        self.all_orgs(false).await?;
        Ok(done?.rows_affected())
    }

    async fn lock_dispatch(&mut self) -> StoreResult<Option<EventPosition>> {
        let sql = match self.backend {
            Backend::Postgres => "SELECT last_tx, last_seq FROM webhook_dispatch WHERE id = 1 FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "SELECT last_tx, last_seq FROM webhook_dispatch WHERE id = 1",
        };
        let found: Option<(i64, i64)> = sqlx::query_as(sql).fetch_optional(self.conn()).await.map_err(db_err)?;
        Ok(found.map(|(tx, seq)| EventPosition { tx, seq }))
    }

    async fn set_dispatch(&mut self, position: EventPosition) -> StoreResult<()> {
        sqlx::query("UPDATE webhook_dispatch SET last_tx = $1, last_seq = $2 WHERE id = 1")
            .bind(position.tx)
            .bind(position.seq)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_pattern;

    #[test]
    fn a_prefix_matches_itself_literally() {
        assert_eq!(prefix_pattern("api_key."), "api\\_key.%");
        assert_eq!(prefix_pattern("a%b\\"), "a\\%b\\\\%");
    }
}
