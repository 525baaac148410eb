-- A video's transcript words (the latest transcript) and its duration. $1 video key.
SELECT t.words, v.duration_seconds
FROM (SELECT video_key, max(duration_seconds) AS duration_seconds FROM videos GROUP BY video_key) v
LEFT JOIN (SELECT DISTINCT ON (video_key) video_key, words FROM transcripts ORDER BY video_key, created_at DESC) t
       ON t.video_key = v.video_key
WHERE v.video_key = $1
