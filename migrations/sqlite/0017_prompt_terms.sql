-- The glossary terms each update's transcript was made with (a JSON array):
-- a glossary larger than whisper's prompt window gives it only those that fit.
ALTER TABLE updates ADD COLUMN prompt_terms TEXT;
