-- People an update's author (or an admin) asked to acknowledge it, and when
-- they did. Gone with the update or the person.
CREATE TABLE acknowledgements (
    update_id       TEXT NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requested_at    BIGINT NOT NULL,
    acknowledged_at BIGINT,
    PRIMARY KEY (update_id, user_id)
);
