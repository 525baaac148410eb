-- Clip partitions already on YouTube (uploaded, scheduled or live): their slots stay.
SELECT s.clip_key
FROM schedules s
JOIN upload_jobs u ON u.clip_id = s.clip_id
WHERE u.status IN ('SCHEDULED', 'LIVE', 'UPLOADED')
