-- A member may be suspended in one org (YipYap's user status) without losing the seat or the role:
-- refused on every org route and by `authorize` until unsuspended. Apart from the account's own
-- status, which an instance admin sets for every org at once.
ALTER TABLE memberships ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended'));

-- Member pages show the status, so the page index carries it to stay the page's only read.
DROP INDEX memberships_org_page;
CREATE INDEX memberships_org_page ON memberships (org_id, id, user_id, role, joined_at, email, display_name, team_ids, status);
