-- The text of every clip scheduled within a week either side of now (Horizon's topic mix so far).
SELECT json_extract_string(c.metadata, '$.text') AS text
FROM schedules s
JOIN clips c ON c.clip_id = s.clip_id
WHERE s.final_scheduled_time BETWEEN now() - INTERVAL 7 DAY AND now() + INTERVAL 7 DAY
