-- The demo summary's videos: for each video key in $1, its post title, length and clip count
-- (NULL title or length where the post or the download is missing).
SELECT k.video_key,
       (SELECT any_value(p.title) FROM posts p WHERE p.video_key = k.video_key) AS title,
       (SELECT any_value(v.duration_seconds) FROM videos v WHERE v.video_key = k.video_key) AS duration_seconds,
       (SELECT count(*) FROM clips c WHERE c.video_key = k.video_key) AS clips
FROM unnest(CAST($1 AS VARCHAR[])) AS k(video_key)
