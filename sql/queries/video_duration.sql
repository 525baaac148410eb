-- A source video's duration. $1 video key.
SELECT max(duration_seconds) AS duration_seconds FROM videos WHERE video_key = $1
