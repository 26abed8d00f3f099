-- The whole schema as of the first PostgreSQL release: accounts, organizations, memberships,
-- sessions, email, instance state, the audit log, custom roles, invitations, API keys, usage and
-- settings.
-- Times are Unix milliseconds (UTC) and JSON is kept as text, exactly as in the SQLite store, so
-- both stores hold the same values (the audit chain hashes stored text byte for byte).
--
-- Row Level Security: every org-scoped table admits only the rows of the org set for the current
-- transaction (`app.current_org`, set with `set_config(…, true)` by the store), plus — for a
-- user's own memberships and orgs — `app.current_user`. `app.all_orgs` widens a read to every org;
-- the store sets it only around instance-wide reads (admin listings, lookups by a secret's hash
-- or an org's slug) and resets it right after.
-- Migrations run as the owner role; the service connects as an application role named by
-- `tenantry.app_role` (set by the migrator), which gets table privileges but owns nothing.

CREATE FUNCTION tenantry_visible(org text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT org = current_setting('app.current_org', true) OR current_setting('app.all_orgs', true) = 'on'
$$;

CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    email             TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    password_hash     TEXT NOT NULL,
    email_verified_at BIGINT,
    status            TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at        BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE orgs (
    id                  TEXT PRIMARY KEY,
    slug                TEXT NOT NULL,
    name                TEXT NOT NULL,
    owner_id            TEXT NOT NULL REFERENCES users (id),
    is_personal         BIGINT NOT NULL CHECK (is_personal IN (0, 1)),
    plan                TEXT NOT NULL,
    billing_customer_id TEXT,
    metadata            TEXT NOT NULL,
    seat_count          BIGINT NOT NULL DEFAULT 0 CHECK (seat_count >= 0),
    created_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX orgs_slug ON orgs (slug);

CREATE TABLE memberships (
    id        TEXT PRIMARY KEY,
    org_id    TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users (id),
    role      TEXT NOT NULL,
    joined_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX memberships_org_user ON memberships (org_id, user_id);
CREATE UNIQUE INDEX memberships_org_id ON memberships (org_id, id);
CREATE INDEX memberships_user_id ON memberships (user_id, id);
CREATE INDEX memberships_org_role ON memberships (org_id, role);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    active_org_id TEXT,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE email_tokens (
    hash       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;

CREATE TABLE signing_keys (
    kid        TEXT PRIMARY KEY,
    pkcs8      BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE instance_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Append-only: the application role may insert and read, never update or delete.
CREATE TABLE audit_events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    org_id      TEXT,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    ip          TEXT,
    user_agent  TEXT,
    metadata    TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_events_org_seq ON audit_events (org_id, seq);

CREATE TABLE custom_roles (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX custom_roles_org_key ON custom_roles (org_id, key);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT,
    rolled_from  TEXT
);
CREATE UNIQUE INDEX api_keys_secret_hash ON api_keys (secret_hash);
CREATE UNIQUE INDEX api_keys_org ON api_keys (org_id, id);

CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL,
    team_ids     TEXT NOT NULL,
    invited_by   TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'expired', 'revoked', 'declined')),
    token_hash   TEXT NOT NULL,
    expires_at   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    responded_at BIGINT
);
CREATE UNIQUE INDEX invitations_token_hash ON invitations (token_hash);
CREATE UNIQUE INDEX invitations_pending_email ON invitations (org_id, email) WHERE state = 'pending';
CREATE UNIQUE INDEX invitations_org_id ON invitations (org_id, id);

CREATE TABLE usage_counters (
    org_id             TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    metric             TEXT NOT NULL,
    period             TEXT NOT NULL,
    value              BIGINT NOT NULL DEFAULT 0 CHECK (value >= 0),
    refusal_audited_at BIGINT,
    PRIMARY KEY (org_id, metric, period)
);

CREATE TABLE usage_idempotency (
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    metric      TEXT NOT NULL,
    key         TEXT NOT NULL,
    delta       BIGINT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('applied', 'over_limit', 'below_zero')),
    value       BIGINT NOT NULL,
    usage_limit BIGINT,
    period      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, metric, key)
);
CREATE INDEX usage_idempotency_age ON usage_idempotency (org_id, created_at);

CREATE TABLE org_settings (
    org_id             TEXT PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
    document           TEXT NOT NULL,
    telegram_bot_token TEXT,
    version            BIGINT NOT NULL CHECK (version > 0),
    updated_at         BIGINT NOT NULL
);

-- Row Level Security on every org-scoped table, for the owner too.
ALTER TABLE orgs ENABLE ROW LEVEL SECURITY;
ALTER TABLE orgs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON orgs
    USING (tenantry_visible(id) OR EXISTS (
        SELECT 1 FROM memberships m WHERE m.org_id = orgs.id AND m.user_id = current_setting('app.current_user', true)))
    WITH CHECK (tenantry_visible(id));

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON memberships
    USING (tenantry_visible(org_id) OR user_id = current_setting('app.current_user', true))
    WITH CHECK (tenantry_visible(org_id));

DO $$
DECLARE
    tenant_table text;
BEGIN
    FOREACH tenant_table IN ARRAY ARRAY['custom_roles', 'api_keys', 'invitations', 'usage_counters',
                                        'usage_idempotency', 'org_settings'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', tenant_table);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', tenant_table);
        EXECUTE format('CREATE POLICY tenant ON %I USING (tenantry_visible(org_id)) WITH CHECK (tenantry_visible(org_id))',
                       tenant_table);
    END LOOP;
END $$;

-- Instance events (no org) are written by anyone and read only instance-wide.
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON audit_events
    USING (tenantry_visible(org_id))
    WITH CHECK (org_id IS NULL OR tenantry_visible(org_id));

-- The application role: data privileges, no ownership, no update or delete of audit rows.
DO $$
DECLARE
    app text := current_setting('tenantry.app_role', true);
BEGIN
    IF app IS NOT NULL AND app <> '' AND app <> current_user THEN
        EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON users, orgs, memberships, sessions, refresh_tokens, '
            'email_tokens, outbox, signing_keys, instance_secrets, custom_roles, api_keys, invitations, '
            'usage_counters, usage_idempotency, org_settings TO %I', app);
        EXECUTE format('GRANT SELECT, INSERT ON audit_events TO %I', app);
    END IF;
END $$;
