-- Fewer indexes to keep on every change's event. Pruning walks the primary key from the oldest
-- event (events are written in time order), so the time index goes. (tx, seq) stays: it is the
-- order readers page in here, where `tx` is the writing transaction.
DROP INDEX events_occurred;
