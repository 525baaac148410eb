-- What a copy template may say about a clip (#29): its creator, the source post's title,
-- address and licence, the clip's language and the source video's key phrases. $1 clip id.
SELECT v.creator, v.source_url, p.title AS source_title,
       json_extract_string(p.raw_metadata, '$.license') AS licence,
       coalesce(cc.language, t.language) AS language, a.keywords AS keyphrases
FROM clips c
JOIN videos v USING (video_key)
LEFT JOIN posts p ON p.video_key = v.video_key
LEFT JOIN transcripts t ON t.video_key = v.video_key
LEFT JOIN analysis a ON a.video_key = v.video_key
LEFT JOIN clip_copy cc ON cc.clip_id = c.clip_id
WHERE CAST(c.clip_id AS VARCHAR) = $1
LIMIT 1
