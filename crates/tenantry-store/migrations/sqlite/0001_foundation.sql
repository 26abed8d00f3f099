-- Accounts, organizations, memberships, sessions, email, instance state and the audit log.
-- Times are Unix milliseconds (UTC). Ids are prefixed ULIDs, so ordering by id is creation order.

CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    email             TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    password_hash     TEXT NOT NULL,
    email_verified_at INTEGER,
    status            TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at        INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE orgs (
    id                  TEXT PRIMARY KEY,
    slug                TEXT NOT NULL,
    name                TEXT NOT NULL,
    owner_id            TEXT NOT NULL REFERENCES users (id),
    is_personal         INTEGER NOT NULL CHECK (is_personal IN (0, 1)),
    plan                TEXT NOT NULL,
    billing_customer_id TEXT,
    metadata            TEXT NOT NULL,
    -- Kept by the store in the transaction that adds or removes a membership.
    seat_count          INTEGER NOT NULL DEFAULT 0 CHECK (seat_count >= 0),
    created_at          INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX orgs_slug ON orgs (slug);

CREATE TABLE memberships (
    id        TEXT PRIMARY KEY,
    org_id    TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users (id),
    role      TEXT NOT NULL,
    joined_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX memberships_org_user ON memberships (org_id, user_id);
-- Member lists page by (org, id); a user's orgs by (user, id).
CREATE INDEX memberships_org_id ON memberships (org_id, id);
CREATE INDEX memberships_user_id ON memberships (user_id, id);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    active_org_id TEXT,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE email_tokens (
    hash       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error      TEXT
) STRICT;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;

CREATE TABLE signing_keys (
    kid        TEXT PRIMARY KEY,
    pkcs8      BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE instance_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Append-only. `seq` orders each org's hash chain; org_id has no foreign key because audit rows
-- outlive the org they describe.
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    org_id      TEXT,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    ip          TEXT,
    user_agent  TEXT,
    metadata    TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_org_seq ON audit_events (org_id, seq);
