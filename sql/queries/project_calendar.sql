-- The project's publish slots between $2 and $3 (timestamps, UTC) with their upload, copy and
-- latest review. $1 creators.
SELECT CAST(s.clip_id AS VARCHAR) AS clip_id, s.clip_key, s.channel, s.final_scheduled_time, s.status,
       json_extract_string(s.horizon_adjustments, '$.reason') AS reason,
       u.status AS upload_status, u.yt_video_id,
       COALESCE(ce.title, u.title, cc.title) AS title,
       rv.decision AS review_decision, rv.reason AS review_reason, v.creator,
       d.message AS deferred_why
FROM schedules s
JOIN clips c ON c.clip_id = s.clip_id
JOIN (SELECT DISTINCT video_key, creator FROM videos) v ON v.video_key = c.video_key
LEFT JOIN upload_jobs u ON u.clip_id = s.clip_id
LEFT JOIN clip_copy cc ON cc.clip_id = s.clip_id
LEFT JOIN (SELECT DISTINCT ON (partition_key) partition_key, title FROM clip_copy_edits
           ORDER BY partition_key, created_at DESC) ce ON ce.partition_key = s.clip_key
LEFT JOIN (SELECT DISTINCT ON (partition_key) partition_key, decision, reason FROM clip_reviews
           ORDER BY partition_key, created_at DESC) rv ON rv.partition_key = s.clip_key
LEFT JOIN (SELECT DISTINCT ON (json_extract_string(metadata, '$.partition'))
                  json_extract_string(metadata, '$.partition') AS partition_key, message
           FROM logs WHERE source = 'uploads' AND level = 'WARN'
           ORDER BY json_extract_string(metadata, '$.partition'), created_at DESC) d
       ON d.partition_key = s.clip_key
WHERE list_contains($1, v.creator)
  AND s.final_scheduled_time >= $2 AND s.final_scheduled_time < $3
ORDER BY s.final_scheduled_time, s.clip_key
