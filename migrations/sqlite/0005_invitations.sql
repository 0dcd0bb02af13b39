-- Single-use invitation links an admin hands out. Only the SHA-256 (hex) of
-- the code in the link is kept.

CREATE TABLE invitations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    code_digest  TEXT NOT NULL UNIQUE,
    -- The role the invited person gets.
    role         TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created_by   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    used_by      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    revoked_at   BIGINT
);
