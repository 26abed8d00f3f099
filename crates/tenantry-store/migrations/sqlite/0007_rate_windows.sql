-- Each API key's request count per one-minute window, shared by the nodes of one database. A
-- single SQLite process counts in memory; the table keeps both stores' schemas alike.
CREATE TABLE api_key_rate_windows (
    org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    key_id       TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (org_id, key_id, window_start)
) STRICT;
CREATE INDEX api_key_rate_windows_start ON api_key_rate_windows (window_start);
