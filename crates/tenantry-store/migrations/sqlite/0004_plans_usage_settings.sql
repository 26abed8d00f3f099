-- Metered usage, idempotent metering answers and org settings.

-- One row per org, metric and period: '' for a gauge, 'YYYY-MM' (UTC) for a monthly counter.
-- Limits are checked by the conditional update that changes `value`; `refusal_audited_at` limits
-- how often a refused increment is audited.
CREATE TABLE usage_counters (
    org_id             TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    metric             TEXT NOT NULL,
    period             TEXT NOT NULL,
    value              INTEGER NOT NULL DEFAULT 0 CHECK (value >= 0),
    refusal_audited_at INTEGER,
    PRIMARY KEY (org_id, metric, period)
) STRICT, WITHOUT ROWID;

-- The first answer to a metering call made with an Idempotency-Key, replayed to its retries.
CREATE TABLE usage_idempotency (
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    metric      TEXT NOT NULL,
    key         TEXT NOT NULL,
    delta       INTEGER NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('applied', 'over_limit', 'below_zero')),
    value       INTEGER NOT NULL,
    usage_limit INTEGER,
    period      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, metric, key)
) STRICT;
CREATE INDEX usage_idempotency_age ON usage_idempotency (org_id, created_at);

-- The settings document (JSON, without secrets), its write-only Telegram bot token, and the
-- version its ETag is made from.
CREATE TABLE org_settings (
    org_id             TEXT PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
    document           TEXT NOT NULL,
    telegram_bot_token TEXT,
    version            INTEGER NOT NULL CHECK (version > 0),
    updated_at         INTEGER NOT NULL
) STRICT;
