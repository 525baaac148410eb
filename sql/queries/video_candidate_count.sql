-- How many clip candidates a video had. $1 video key.
SELECT count(*) AS n FROM clip_candidates WHERE video_key = $1
