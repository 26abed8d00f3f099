-- A member page shows each member's email and display name. Reading them from `users` is a
-- lookup by id per member, scattered over the whole table: most of a page's cost. Each
-- membership keeps a copy instead, so a page is one range of one index.
--
-- The copy is made by the database on every insert, whoever inserts. A user's email and display
-- name are set at signup and never change; the guard below makes a change that forgets the copies
-- fail instead of leaving them stale.
ALTER TABLE memberships ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE memberships ADD COLUMN display_name TEXT NOT NULL DEFAULT '';

UPDATE memberships SET
    email = (SELECT u.email FROM users u WHERE u.id = memberships.user_id),
    display_name = (SELECT u.display_name FROM users u WHERE u.id = memberships.user_id);

CREATE TRIGGER memberships_profile AFTER INSERT ON memberships
BEGIN
    UPDATE memberships SET
        email = COALESCE((SELECT u.email FROM users u WHERE u.id = NEW.user_id), email),
        display_name = COALESCE((SELECT u.display_name FROM users u WHERE u.id = NEW.user_id), display_name)
    WHERE id = NEW.id;
END;

CREATE TRIGGER users_profile_unchanged BEFORE UPDATE OF email, display_name ON users
WHEN NEW.email IS NOT OLD.email OR NEW.display_name IS NOT OLD.display_name
BEGIN
    SELECT RAISE(ABORT, 'users.email and users.display_name are copied into memberships: change them together');
END;

DROP INDEX memberships_org_page;
CREATE INDEX memberships_org_page ON memberships (org_id, id, user_id, role, joined_at, email, display_name);
