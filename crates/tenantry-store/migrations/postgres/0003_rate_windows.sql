-- Each API key's request count per one-minute window, added to by every node that admits its
-- requests, so that nodes sharing the database hold a key's rate limit together.
CREATE TABLE api_key_rate_windows (
    org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    key_id       TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    count        BIGINT NOT NULL CHECK (count >= 0),
    PRIMARY KEY (org_id, key_id, window_start)
);
CREATE INDEX api_key_rate_windows_start ON api_key_rate_windows (window_start);

ALTER TABLE api_key_rate_windows ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_key_rate_windows FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON api_key_rate_windows
    USING (tenantry_visible(org_id)) WITH CHECK (tenantry_visible(org_id));

DO $$
DECLARE
    app text := current_setting('tenantry.app_role', true);
BEGIN
    IF app IS NOT NULL AND app <> '' AND app <> current_user THEN
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON api_key_rate_windows TO %I', app);
    END IF;
END $$;
