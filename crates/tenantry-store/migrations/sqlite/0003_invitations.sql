-- Invitations to join an org. Only the SHA-256 of a token is stored. `invited_by` is a user or
-- API key id (no foreign key: either kind may issue one). `team_ids` is a JSON array. A pending
-- invitation past `expires_at` is expired without being rewritten; `state` becomes 'expired'
-- only when a new invitation to the same address needs the slot.
CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL,
    team_ids     TEXT NOT NULL,
    invited_by   TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'expired', 'revoked', 'declined')),
    token_hash   TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    responded_at INTEGER
) STRICT;
CREATE UNIQUE INDEX invitations_token_hash ON invitations (token_hash);
-- One pending invitation per address and org, even under concurrent invites.
CREATE UNIQUE INDEX invitations_pending_email ON invitations (org_id, email) WHERE state = 'pending';
CREATE INDEX invitations_org_id ON invitations (org_id, id);
