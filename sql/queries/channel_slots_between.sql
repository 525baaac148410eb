-- The slots any clip holds on a channel from $2 to $3 (timestamps), with the clip's creator
-- and upload. $1 channel.
SELECT s.*, v.creator, u.status AS upload_status
FROM schedules s
LEFT JOIN clips c ON c.clip_id = s.clip_id
LEFT JOIN (SELECT DISTINCT video_key, creator FROM videos) v ON v.video_key = c.video_key
LEFT JOIN upload_jobs u ON u.clip_id = s.clip_id
WHERE s.channel = $1 AND s.final_scheduled_time >= $2 AND s.final_scheduled_time < $3
ORDER BY s.final_scheduled_time
