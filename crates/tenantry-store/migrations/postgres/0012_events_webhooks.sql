-- Events for host apps (SPEC 16): one row per change, written in the change's transaction.
-- `tx` is the writing transaction's id. Sequence values are taken before commit, so transactions
-- commit out of `seq` order; a reader pages by (tx, seq) and shows only events of transactions
-- older than every one still running (`pg_snapshot_xmin`), so no later commit can land behind
-- its cursor.
-- No foreign key to orgs: an org's events, `org.deleted` last, outlive it.
CREATE TABLE events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    tx          BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    type        TEXT NOT NULL,
    org_id      TEXT,
    occurred_at BIGINT NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX events_order ON events (tx, seq);
CREATE INDEX events_occurred ON events (occurred_at);

-- Events are read across orgs (instance admin, host apps); writes stay inside the org's scope.
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON events
    USING (tenantry_visible(org_id))
    WITH CHECK (org_id IS NULL OR tenantry_visible(org_id));

-- Webhook endpoints of the instance, managed by the instance admin. The secret signs deliveries,
-- so it is kept (not hashed); after a rotation the previous one also signs until it expires.
CREATE TABLE webhook_endpoints (
    id                    TEXT NOT NULL PRIMARY KEY,
    url                   TEXT NOT NULL,
    description           TEXT NOT NULL,
    event_types           TEXT NOT NULL,
    secret                TEXT NOT NULL,
    previous_secret       TEXT,
    previous_secret_until BIGINT,
    disabled_at           BIGINT,
    disabled_reason       TEXT,
    failing_since         BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);

-- Where the dispatcher has fanned events out to endpoints: one row, locked by the node that
-- dispatches, so each event becomes one delivery per endpoint whichever node runs.
CREATE TABLE webhook_dispatch (
    id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last_tx  BIGINT NOT NULL,
    last_seq BIGINT NOT NULL
);
INSERT INTO webhook_dispatch (id, last_tx, last_seq) VALUES (1, 0, 0);

-- One message to one destination: an event to a webhook endpoint, or an org's notification to
-- its Slack or Telegram channel. A sender claims due rows (`FOR UPDATE SKIP LOCKED`) by moving
-- `next_attempt_at` to the end of a lease, so one node at a time attempts each, and a node that
-- dies mid-send leaves it due again when the lease ends.
CREATE TABLE deliveries (
    id               TEXT NOT NULL PRIMARY KEY,
    channel          TEXT NOT NULL,
    endpoint_id      TEXT REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    org_id           TEXT,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    next_attempt_at  BIGINT,
    last_attempt_at  BIGINT,
    response_status  BIGINT,
    response_body    TEXT,
    latency_ms       BIGINT,
    last_error       TEXT
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);

-- The sender serves the whole instance and widens its view to every org for each statement on
-- deliveries; an org-scoped transaction sees only its org's.
ALTER TABLE deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON deliveries
    USING (tenantry_visible(org_id))
    WITH CHECK (org_id IS NULL OR tenantry_visible(org_id));

DO $$
DECLARE
    app text := current_setting('tenantry.app_role', true);
BEGIN
    IF app IS NOT NULL AND app <> '' AND app <> current_user THEN
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON events, webhook_endpoints, webhook_dispatch, deliveries TO %I', app);
    END IF;
END $$;
