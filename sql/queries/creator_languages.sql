-- The languages a creator's other videos (not the one in hand, the second parameter) were
-- detected in with confidence (0.8 or more; pinned languages have no probability and do not
-- count), most first: the creator's usual language, when they agree (omniva_resources/asr.py).
SELECT t.language, count(*) AS videos
FROM transcripts t
JOIN (SELECT DISTINCT video_key, creator FROM videos) v ON v.video_key = t.video_key
WHERE v.creator = ? AND t.video_key <> ? AND t.language_probability >= 0.8
GROUP BY t.language
ORDER BY videos DESC, t.language
