-- Teams (SPEC 13): sub-groups of an org's members, each member holding one team role per team.
-- `org_id` is part of every key, so a team member row can only point at a team and a membership
-- of the same org; deleting the org, the team or the org membership deletes the team membership
-- in the same transaction (the foreign keys cascade).
CREATE TABLE teams (
    id          TEXT NOT NULL PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    metadata    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX teams_org_slug ON teams (org_id, slug);
CREATE UNIQUE INDEX teams_org_id ON teams (org_id, id);

CREATE TABLE team_members (
    org_id    TEXT NOT NULL,
    team_id   TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    role      TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, team_id, user_id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
);
CREATE INDEX team_members_user ON team_members (org_id, user_id);

-- The member's teams in this org as a JSON array of ids, kept by the store with every team
-- membership change, so a page of members is still one range of one index (which now
-- holds it too).
ALTER TABLE memberships ADD COLUMN team_ids TEXT NOT NULL DEFAULT '[]';
DROP INDEX memberships_org_page;
CREATE INDEX memberships_org_page ON memberships (org_id, id, user_id, role, joined_at, email, display_name, team_ids);
