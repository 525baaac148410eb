-- Per creator: last posts listing, videos and posts seen. $1 creators.
SELECT cr AS creator,
       (SELECT max(created_at) FROM dagster_materializations
        WHERE asset_key = 'posts' AND split_part(partition_key, '|', 1) = cr) AS last_scraped_at,
       (SELECT count(DISTINCT video_key) FROM posts WHERE creator = cr) AS posts_seen,
       (SELECT count(DISTINCT video_key) FROM videos WHERE creator = cr) AS videos_downloaded
FROM unnest($1) AS t(cr)
