-- Every clip's title but the clip's own (the parameter): Paradox's title-in-use check.
SELECT CAST(clip_id AS VARCHAR) AS clip_id, title
FROM clip_copy
WHERE CAST(clip_id AS VARCHAR) <> ?
