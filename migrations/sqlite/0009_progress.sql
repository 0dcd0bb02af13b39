-- How far each person got with each update: the union of the intervals they
-- watched (JSON [[start_ms, end_ms], …], sorted and disjoint), where to resume,
-- and when it first counted as seen. Gone with the update or the person.
CREATE TABLE watch_progress (
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    update_id   TEXT NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
    watched     TEXT NOT NULL,
    position_ms BIGINT NOT NULL,
    seen_at     BIGINT,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, update_id)
);
