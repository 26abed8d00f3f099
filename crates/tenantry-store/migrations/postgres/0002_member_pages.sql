-- Member pages read everything they show of a membership from this index, in cursor order
-- (index-only scans), without visiting the table.
CREATE UNIQUE INDEX memberships_org_page ON memberships (org_id, id) INCLUDE (user_id, role, joined_at);
DROP INDEX memberships_org_id;
-- The membership lookup of every member request covers its row too. Otherwise a generic plan
-- for `org_id = $1 AND user_id = $2` may prefer the index-only scan above and filter a whole
-- org's memberships by user.
DROP INDEX memberships_org_user;
CREATE UNIQUE INDEX memberships_org_user ON memberships (org_id, user_id) INCLUDE (id, role, joined_at);
