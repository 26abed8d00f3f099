-- A member page shows each member's email and display name. Reading them from `users` is a
-- lookup by id per member, scattered over the whole table: most of a page's cost. Each
-- membership keeps a copy instead, so a page is one index-only range scan.
--
-- The copy is made by the database on every insert, whoever inserts. A user's email and display
-- name are set at signup and never change; the guard below makes a change that forgets the copies
-- fail instead of leaving them stale.
ALTER TABLE memberships ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE memberships ADD COLUMN display_name TEXT NOT NULL DEFAULT '';

-- Row Level Security applies to this migration too: it copies into every org's rows.
SELECT set_config('app.all_orgs', 'on', true);
UPDATE memberships m SET email = u.email, display_name = u.display_name FROM users u WHERE u.id = m.user_id;

CREATE FUNCTION memberships_copy_profile() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.email := COALESCE((SELECT u.email FROM users u WHERE u.id = NEW.user_id), NEW.email);
    NEW.display_name := COALESCE((SELECT u.display_name FROM users u WHERE u.id = NEW.user_id), NEW.display_name);
    RETURN NEW;
END
$$;
CREATE TRIGGER memberships_profile BEFORE INSERT ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_copy_profile();

CREATE FUNCTION users_refuse_profile_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.email IS DISTINCT FROM OLD.email OR NEW.display_name IS DISTINCT FROM OLD.display_name THEN
        RAISE EXCEPTION 'users.email and users.display_name are copied into memberships: change them together';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER users_profile_unchanged BEFORE UPDATE OF email, display_name ON users
    FOR EACH ROW EXECUTE FUNCTION users_refuse_profile_change();

DROP INDEX memberships_org_page;
CREATE UNIQUE INDEX memberships_org_page ON memberships (org_id, id) INCLUDE (user_id, role, joined_at, email, display_name);
