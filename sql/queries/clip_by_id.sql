-- One clip by its id. $1 clip id.
SELECT * FROM clips WHERE CAST(clip_id AS VARCHAR) = $1
