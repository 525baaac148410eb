-- The posts partitions (creator, day listed) whose listing included a video. $1 video key.
SELECT DISTINCT creator, CAST(listed_on AS VARCHAR) AS listed_on FROM posts WHERE video_key = $1 ORDER BY listed_on
