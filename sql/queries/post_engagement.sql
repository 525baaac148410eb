-- Views and likes of the latest listing of each video in a list ($1: video keys), where the
-- platform gave them, and the creator that listed it: Zenith runs the videos people watch most
-- first, and the queue limits runs per creator.
SELECT video_key,
       max_by(TRY_CAST(json_extract(raw_metadata, '$.view_count') AS BIGINT), listed_on) AS views,
       max_by(TRY_CAST(json_extract(raw_metadata, '$.like_count') AS BIGINT), listed_on) AS likes,
       max_by(creator, listed_on) AS creator
FROM posts
WHERE list_contains($1, video_key)
GROUP BY video_key
