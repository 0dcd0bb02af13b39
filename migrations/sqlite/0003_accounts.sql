-- People and their API tokens. Only hashes of secrets are kept: an argon2id
-- PHC string per password, the SHA-256 (hex) of each token.

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    login          TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    password_hash  TEXT NOT NULL,
    -- Set while the account is disabled: its tokens and sessions stop working.
    disabled_at    BIGINT,
    created_at     BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    secret_digest  TEXT NOT NULL UNIQUE,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT,
    revoked_at     BIGINT
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);
