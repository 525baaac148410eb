-- The files of one clip's render (#28: the dashboard's player): the MP4 and its thumbnail. $1 clip id.
SELECT file_path, thumbnail_path
FROM renders
WHERE CAST(clip_id AS VARCHAR) = $1
ORDER BY created_at DESC
LIMIT 1
