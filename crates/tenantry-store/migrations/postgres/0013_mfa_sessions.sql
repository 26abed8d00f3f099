-- Multi-factor authentication (TOTP) and the sessions list.
--
-- A user's TOTP secret is sealed with the instance's MFA key (AES-256-GCM; base64 of nonce and
-- ciphertext) and pending until a first code confirms it. `last_step` is the last 30-second step
-- whose code was accepted: a code is accepted only for a later step, so none is used twice.
CREATE TABLE user_totp (
    user_id      TEXT NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed       TEXT NOT NULL,
    confirmed_at BIGINT,
    last_step    BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);

-- Ten single-use recovery codes per enrolment, kept as SHA-256 hashes.
CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- The second step of a login: a short-lived token (hashed) with a count of wrong codes.
CREATE TABLE mfa_challenges (
    token_hash TEXT NOT NULL PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    used_at    BIGINT
);
CREATE INDEX mfa_challenges_expiry ON mfa_challenges (expires_at);

-- What the sessions list shows, and the factors the session's login used (`pwd` or `pwd otp`),
-- carried into every access token of the session as `amr`.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN last_used_at BIGINT;

-- Accounts are instance-wide (no org scope, no row policy), like users and sessions.
DO $$
DECLARE
    app text := current_setting('tenantry.app_role', true);
BEGIN
    IF app IS NOT NULL AND app <> '' AND app <> current_user THEN
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON user_totp, recovery_codes, mfa_challenges TO %I', app);
    END IF;
END $$;
