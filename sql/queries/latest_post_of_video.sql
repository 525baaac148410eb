-- The latest listed post of a video. $1 video key.
SELECT * FROM posts WHERE video_key = $1 ORDER BY listed_on DESC LIMIT 1
