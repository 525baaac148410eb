-- One clip's upload job. $1 clip id.
SELECT yt_video_id, privacy_status, status, scheduled_time
FROM upload_jobs
WHERE CAST(clip_id AS VARCHAR) = $1
