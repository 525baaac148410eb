-- Upload jobs of the project's clips, by slot. $1 creators, $2 limit, $3 offset.
SELECT u.upload_job_id, u.clip_id, c.video_key, c.rank, u.status, u.yt_video_id, u.scheduled_time,
       u.privacy_status, u.title, u.api_root, u.created_at, count(*) OVER () AS total
FROM upload_jobs u
JOIN clips c ON c.clip_id = u.clip_id
JOIN (SELECT DISTINCT video_key, creator FROM videos) v ON v.video_key = c.video_key
WHERE list_contains($1, v.creator)
ORDER BY u.scheduled_time NULLS LAST, c.video_key, c.rank
LIMIT $2 OFFSET $3
