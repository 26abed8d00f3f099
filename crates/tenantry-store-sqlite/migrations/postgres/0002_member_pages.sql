-- Member pages read everything they show of a membership from this index, in cursor order
-- (index-only scans), without visiting the table.
CREATE UNIQUE INDEX memberships_org_page ON memberships (org_id, id) INCLUDE (user_id, role, joined_at);
DROP INDEX memberships_org_id;
