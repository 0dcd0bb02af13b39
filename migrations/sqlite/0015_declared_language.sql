-- The spoken language the uploader declared (an ISO 639-1 code); NULL: let
-- whisper detect it (multilingual models) or assume English (English-only ones).
ALTER TABLE updates ADD COLUMN declared_language TEXT;
