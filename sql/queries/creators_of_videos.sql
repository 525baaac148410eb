-- Each video's creator. $1 video keys.
SELECT DISTINCT video_key, creator FROM videos WHERE list_contains($1, video_key)
