-- Less to write with every change's event. Pruning walks the primary key from the oldest event
-- (events are written in time order), so the time index goes; SQLite's `tx` is always 0, so its
-- order is `seq` alone, the primary key, and the (tx, seq) index goes too.
--
-- `seq` becomes a plain rowid key instead of AUTOINCREMENT, which wrote `sqlite_sequence` on every
-- insert. A rowid is only reused after the newest row is deleted, and pruning always keeps the
-- newest event, so `seq` still only grows and cursors never see a number twice.
CREATE TABLE events_next (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    tx          BIGINT NOT NULL DEFAULT 0,
    type        TEXT NOT NULL,
    org_id      TEXT,
    occurred_at BIGINT NOT NULL,
    data        TEXT NOT NULL
);
INSERT INTO events_next (seq, id, tx, type, org_id, occurred_at, data)
    SELECT seq, id, tx, type, org_id, occurred_at, data FROM events;
DROP TABLE events;
ALTER TABLE events_next RENAME TO events;
