-- The content type browsers play the original upload as, unchanged (video/mp4,
-- video/webm); NULL: they may not, and the update plays once it is transcoded.
ALTER TABLE updates ADD COLUMN original_type TEXT;
