-- The workspace glossary (whisper's initial prompt) and hand-corrected transcript lines.

CREATE TABLE glossary_terms (
    position  BIGINT PRIMARY KEY,
    term      TEXT NOT NULL
);

-- Set when someone corrected the line by hand (Unix milliseconds); a rerun of
-- the transcribe stage replaces the whole transcript, corrections included.
ALTER TABLE segments ADD COLUMN edited_at BIGINT;
