-- Browser sessions, and who posted each update.
-- A session cookie carries a random secret; only its SHA-256 (hex) is kept.

CREATE TABLE sessions (
    id             BIGSERIAL PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_digest  TEXT NOT NULL UNIQUE,
    -- The browser it was opened in (User-Agent, shortened), for the sessions page.
    user_agent     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    -- Refreshed at most once a minute; idle expiry counts from here.
    last_seen_at   BIGINT NOT NULL,
    -- Absolute expiry: the session ends then however active it is.
    expires_at     BIGINT NOT NULL,
    revoked_at     BIGINT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- NULL for updates posted before accounts existed.
ALTER TABLE updates ADD COLUMN author_id BIGINT REFERENCES users (id);
