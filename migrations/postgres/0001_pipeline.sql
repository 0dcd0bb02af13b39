-- Updates, their transcript segments, the job queue and the search change feed.
-- Times are Unix milliseconds (BIGINT) in both engines.

CREATE TABLE updates (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('processing', 'ready', 'failed')),
    error         TEXT,
    duration_ms   BIGINT NOT NULL,
    width         BIGINT NOT NULL,
    height        BIGINT NOT NULL,
    has_audio     BOOLEAN NOT NULL,
    source_bytes  BIGINT NOT NULL,
    media_info    TEXT NOT NULL,
    language      TEXT,
    word_count    BIGINT NOT NULL DEFAULT 0,
    storyboard    TEXT,
    created_at    BIGINT NOT NULL,
    ready_at      BIGINT
);

CREATE TABLE segments (
    update_id  TEXT NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
    idx        BIGINT NOT NULL,
    start_ms   BIGINT NOT NULL,
    end_ms     BIGINT NOT NULL,
    text       TEXT NOT NULL,
    words      TEXT,
    PRIMARY KEY (update_id, idx)
);

CREATE TABLE jobs (
    id            BIGSERIAL PRIMARY KEY,
    update_id     TEXT NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempt       BIGINT NOT NULL DEFAULT 0,
    max_attempts  BIGINT NOT NULL,
    run_at        BIGINT NOT NULL,
    lease_until   BIGINT,
    worker        TEXT,
    progress      BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (update_id, kind)
);
CREATE INDEX jobs_claimable ON jobs (state, run_at);

CREATE TABLE search_changes (
    seq        BIGSERIAL PRIMARY KEY,
    update_id  TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
