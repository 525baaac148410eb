-- A clip's committed publish slot, with its upload. $1 the clip's partition key (rank|video).
SELECT s.*, u.status AS upload_status, u.yt_video_id
FROM schedules s
LEFT JOIN upload_jobs u ON u.clip_id = s.clip_id
WHERE s.clip_key = $1
