-- Where a video came from: its post (title, URL, date) and the downloaded file's checksum. $1 video key.
SELECT p.title, p.url AS source_url, p.posted_at, v.checksum AS source_checksum, v.creator
FROM videos v
JOIN posts p ON p.post_id = v.post_id
WHERE v.video_key = $1
LIMIT 1
