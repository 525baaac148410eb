-- The edit decision list of one clip. $1 clip id.
SELECT operations FROM edit_jobs WHERE CAST(clip_id AS VARCHAR) = $1
