-- Reading the transcript instead of watching: the largest share of its lines
-- that has been on screen, and how long it was on screen in all.
ALTER TABLE watch_progress ADD COLUMN read_fraction REAL NOT NULL DEFAULT 0;
ALTER TABLE watch_progress ADD COLUMN read_ms BIGINT NOT NULL DEFAULT 0;
