-- The publish plan's slots for the project's clips. $1 creators, $2 limit, $3 offset.
SELECT s.schedule_id, s.clip_id, s.clip_key, s.channel, u.upload_job_id, s.recommended_time,
       s.final_scheduled_time, s.status, u.status AS upload_status,
       json_extract_string(s.horizon_adjustments, '$.reason') AS reason, count(*) OVER () AS total
FROM schedules s
JOIN clips c ON c.clip_id = s.clip_id
JOIN (SELECT DISTINCT video_key, creator FROM videos) v ON v.video_key = c.video_key
LEFT JOIN upload_jobs u ON u.clip_id = s.clip_id
WHERE list_contains($1, v.creator)
ORDER BY s.final_scheduled_time, s.clip_key
LIMIT $2 OFFSET $3
