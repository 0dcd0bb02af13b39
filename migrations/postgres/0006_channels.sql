-- Channels: every update belongs to one. `General` exists from the start and
-- holds every update posted before channels did.

CREATE TABLE channels (
    id           BIGSERIAL PRIMARY KEY,
    -- In URLs and the `channel` field: lower-case, from the name.
    slug         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    -- Who may post: `everyone` who can see the channel, or only `listed`
    -- members (and admins).
    posting      TEXT NOT NULL CHECK (posting IN ('everyone', 'listed')),
    -- Seen by its members only (and workspace admins).
    private      BOOLEAN NOT NULL DEFAULT FALSE,
    -- Archived: no new posts; its updates stay readable.
    archived_at  BIGINT,
    created_at   BIGINT NOT NULL
);

CREATE TABLE channel_members (
    channel_id  BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Manages the channel's members and who posts.
    is_admin    BOOLEAN NOT NULL DEFAULT FALSE,
    -- On the post list of a `listed` channel.
    can_post    BOOLEAN NOT NULL DEFAULT FALSE,
    joined_at   BIGINT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_by_user ON channel_members (user_id);

INSERT INTO channels (slug, name, posting, created_at) VALUES ('general', 'General', 'everyone', 0);

ALTER TABLE updates ADD COLUMN channel_id BIGINT REFERENCES channels (id);
UPDATE updates SET channel_id = (SELECT id FROM channels WHERE slug = 'general');
CREATE INDEX updates_by_channel ON updates (channel_id, id);
