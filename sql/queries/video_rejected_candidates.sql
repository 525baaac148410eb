-- A video's three best rejected candidates and why they were rejected. $1 video key.
SELECT start_time, end_time, rejected_because
FROM clip_candidates
WHERE video_key = $1 AND rejected_because IS NOT NULL
ORDER BY consensus DESC
LIMIT 3
