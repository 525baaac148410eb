-- The latest person's re-cut of a clip's span. $1 the clip's partition key (rank|video).
SELECT start_time, end_time, author, created_at
FROM clip_recuts
WHERE partition_key = $1
ORDER BY created_at DESC, recut_id
LIMIT 1
