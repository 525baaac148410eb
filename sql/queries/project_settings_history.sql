-- A project's settings changes (#29), newest first: who (the key), when, and each setting's
-- value before and after. $1 the project id, $2 limit.
SELECT CAST(log_id AS VARCHAR) AS log_id, message, created_at,
       json_extract_string(metadata, '$.key_id') AS key_id,
       CAST(json_extract(metadata, '$.changes') AS VARCHAR) AS changes
FROM logs
WHERE source IN ('api', 'cli')
  AND json_extract_string(metadata, '$.project_id') = $1
  AND json_extract_string(metadata, '$.event') = 'settings_changed'
ORDER BY created_at DESC, log_id
LIMIT $2
