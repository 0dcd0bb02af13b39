-- Who last corrected a transcript line by hand (`edited_at` says when), and
-- what whisper had written before the first correction.
ALTER TABLE segments ADD COLUMN edited_by BIGINT REFERENCES users (id);
ALTER TABLE segments ADD COLUMN original_text TEXT;
