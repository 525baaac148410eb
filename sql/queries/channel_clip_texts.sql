-- The clips already on a channel (scheduled or uploaded there; the parameter: the channel),
-- with their text: the guardian's near-duplicate rule embeds them.
SELECT DISTINCT CAST(c.clip_id AS VARCHAR) AS clip_id, c.video_key,
       json_extract_string(c.metadata, '$.text') AS text
FROM clips c
JOIN schedules s ON s.clip_id = c.clip_id
WHERE s.channel = ?
