-- Which transcode attempt's outputs an update shows. Each attempt stores its
-- video, poster and storyboard under updates/{id}/a{attempt}/, and the fenced
-- commit that completes the job switches this column to it, so a worker that
-- lost its lease can never overwrite the outputs being served. NULL: outputs of
-- updates transcoded before this column existed, directly under updates/{id}/.
ALTER TABLE updates ADD COLUMN media_attempt BIGINT;
