-- The latest review of each clip partition in $1 (a list of rank|video keys).
SELECT DISTINCT ON (partition_key) partition_key, CAST(clip_id AS VARCHAR) AS clip_id, decision, reason,
       author, created_at
FROM clip_reviews
WHERE list_contains($1, partition_key)
ORDER BY partition_key, created_at DESC, review_id
