-- Terms members suggest for the glossary, and what an admin decided
-- (`approved` true: added to the glossary; false: declined; NULL: pending).
CREATE TABLE glossary_suggestions (
    id            BIGSERIAL PRIMARY KEY,
    term          TEXT NOT NULL,
    suggested_by  BIGINT NOT NULL REFERENCES users (id),
    created_at    BIGINT NOT NULL,
    approved      BOOLEAN,
    decided_by    BIGINT REFERENCES users (id),
    decided_at    BIGINT
);
CREATE INDEX glossary_suggestions_pending ON glossary_suggestions (approved);
