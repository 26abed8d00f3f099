-- A message the mail server refused for good (a 5xx reply, or an address it cannot take) stops
-- being retried; `failed_at` says when, `last_error` says why, and the admin's outbox shows both.
ALTER TABLE outbox ADD COLUMN failed_at INTEGER;
