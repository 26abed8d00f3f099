-- Multi-factor authentication (TOTP) and the sessions list.
--
-- A user's TOTP secret is sealed with the instance's MFA key (AES-256-GCM; base64 of nonce and
-- ciphertext) and pending until a first code confirms it. `last_step` is the last 30-second step
-- whose code was accepted: a code is accepted only for a later step, so none is used twice.
CREATE TABLE user_totp (
    user_id      TEXT NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed       TEXT NOT NULL,
    confirmed_at INTEGER,
    last_step    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
) STRICT;

-- Ten single-use recovery codes per enrolment, kept as SHA-256 hashes.
CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (user_id, code_hash)
) STRICT;

-- The second step of a login: a short-lived token (hashed) with a count of wrong codes.
CREATE TABLE mfa_challenges (
    token_hash TEXT NOT NULL PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    used_at    INTEGER
) STRICT;
CREATE INDEX mfa_challenges_expiry ON mfa_challenges (expires_at);

-- What the sessions list shows, and the factors the session's login used (`pwd` or `pwd otp`),
-- carried into every access token of the session as `amr`.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN last_used_at INTEGER;
