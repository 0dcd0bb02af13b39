-- Replies: comments on an update, at a moment (`at_ms`) or on the whole
-- update (NULL), threaded (`parent_id`: the comment answered); reactions from
-- a small fixed set, one per person, emoji and moment (`at_ms` -1: the whole
-- update); and video replies, updates of their own that answer another at a
-- moment. Comments and reactions go with their update; a video reply stays
-- when the update it answers is deleted. A deleted comment that has answers
-- keeps its place, its text gone (`deleted_at`).

CREATE TABLE comments (
    id          BIGSERIAL PRIMARY KEY,
    update_id   TEXT NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
    parent_id   BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    author_id   BIGINT NOT NULL REFERENCES users (id),
    at_ms       BIGINT,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    edited_at   BIGINT,
    deleted_at  BIGINT
);
CREATE INDEX comments_by_update ON comments (update_id, id);

CREATE TABLE reactions (
    update_id   TEXT NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji       TEXT NOT NULL,
    at_ms       BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (update_id, user_id, emoji, at_ms)
);

ALTER TABLE updates ADD COLUMN reply_to TEXT REFERENCES updates (id) ON DELETE SET NULL;
ALTER TABLE updates ADD COLUMN reply_at_ms BIGINT;
CREATE INDEX updates_replies ON updates (reply_to);
