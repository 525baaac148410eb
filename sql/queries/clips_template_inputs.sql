-- What copy templates are filled with, for several clips at once (#29): Chorus's copy and the
-- source's creator, title, address, licence, language and key phrases. $1 clip ids.
SELECT CAST(c.clip_id AS VARCHAR) AS clip_id, cc.title, cc.description, cc.keywords, cc.category_id,
       coalesce(cc.language, t.language) AS language, v.creator, v.source_url,
       p.title AS source_title, json_extract_string(p.raw_metadata, '$.license') AS licence,
       a.keywords AS keyphrases
FROM clips c
JOIN clip_copy cc ON cc.clip_id = c.clip_id
JOIN (SELECT DISTINCT video_key, creator, source_url FROM videos) v ON v.video_key = c.video_key
LEFT JOIN (SELECT DISTINCT ON (video_key) video_key, title, raw_metadata FROM posts) p ON p.video_key = c.video_key
LEFT JOIN (SELECT DISTINCT ON (video_key) video_key, language FROM transcripts) t ON t.video_key = c.video_key
LEFT JOIN (SELECT DISTINCT ON (video_key) video_key, keywords FROM analysis) a ON a.video_key = c.video_key
WHERE list_contains($1, CAST(c.clip_id AS VARCHAR))
