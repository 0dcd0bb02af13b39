-- A short written description beside the video (plain text; links in it are
-- made clickable when shown). Searchable like the title.
ALTER TABLE updates ADD COLUMN description TEXT NOT NULL DEFAULT '';
