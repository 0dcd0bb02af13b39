-- The glossary's version, raised by every change to it, and the version each
-- update's transcript was made with.
CREATE TABLE glossary_version (
    id       BIGINT PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO glossary_version (id, version) VALUES (1, 0);
ALTER TABLE updates ADD COLUMN glossary_version BIGINT;

-- Hand corrections whose line a new transcript no longer has (it was split
-- or merged differently): kept and offered as suggestions.
CREATE TABLE correction_suggestions (
    update_id     TEXT NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
    start_ms      BIGINT NOT NULL,
    end_ms        BIGINT NOT NULL,
    text          TEXT NOT NULL,
    suggested_by  BIGINT REFERENCES users (id),
    suggested_at  BIGINT NOT NULL
);
CREATE INDEX correction_suggestions_by_update ON correction_suggestions (update_id);
