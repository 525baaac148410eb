-- Partitions that failed on input that retrying cannot fix (Eclipse quarantine).
SELECT DISTINCT json_extract_string(metadata, '$.partition') AS partition, source, message
FROM logs
WHERE level = 'ERROR'
  AND json_extract(metadata, '$.retryable') = 'false'::JSON
