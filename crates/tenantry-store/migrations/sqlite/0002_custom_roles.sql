-- Roles an org defines for itself (plan feature `custom_roles`). Permissions are a JSON array of
-- permission keys.
CREATE TABLE custom_roles (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX custom_roles_org_key ON custom_roles (org_id, key);
CREATE INDEX memberships_org_role ON memberships (org_id, role);
