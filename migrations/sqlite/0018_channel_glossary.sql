-- A channel's own glossary terms, read before the workspace's when an update
-- of that channel is transcribed. A change raises the one glossary version.
CREATE TABLE channel_glossary_terms (
    channel_id  BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    term        TEXT NOT NULL,
    PRIMARY KEY (channel_id, position)
);
