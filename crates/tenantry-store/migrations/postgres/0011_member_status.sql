-- A member may be suspended in one org (YipYap's user status) without losing the seat or the role:
-- refused on every org route and by `authorize` until unsuspended. Apart from the account's own
-- status, which an instance admin sets for every org at once.
ALTER TABLE memberships ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended'));

-- Member pages read the status, so the page index carries it to stay index-only.
DROP INDEX memberships_org_page;
CREATE UNIQUE INDEX memberships_org_page ON memberships (org_id, id) INCLUDE (user_id, role, joined_at, email, display_name, team_ids, status);
-- So does the membership lookup of every member request (see 0002_member_pages.sql for why it
-- must be covered). `memberships_org_user` cannot be replaced: team_members' foreign key depends
-- on it. This index covers the lookup beside it.
CREATE UNIQUE INDEX memberships_org_user_status ON memberships (org_id, user_id) INCLUDE (id, role, joined_at, status);
