-- One clip by its video and rank. $1 video key, $2 rank.
SELECT * FROM clips WHERE video_key = $1 AND rank = $2
