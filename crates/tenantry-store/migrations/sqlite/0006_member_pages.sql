-- Member pages read everything they show of a membership from this index, in cursor order,
-- without visiting the table: a page of 100 in an org of 100,000 costs 100 fewer lookups.
CREATE INDEX memberships_org_page ON memberships (org_id, id, user_id, role, joined_at);
DROP INDEX memberships_org_id;
