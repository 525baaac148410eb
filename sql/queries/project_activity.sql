-- One project's activity for the dashboard's list (#28). $1: its creators; $2: the first day of
-- the throughput window. Renders per day since $2, the upload queue, and the latest activity.
-- Ids compare as text (see project_funnel).
WITH v AS (SELECT DISTINCT video_key FROM videos WHERE list_contains($1, creator)),
     c AS (SELECT DISTINCT CAST(clips.clip_id AS VARCHAR) AS clip_id FROM clips JOIN v USING (video_key)),
     r AS (SELECT created_at FROM renders WHERE CAST(clip_id AS VARCHAR) IN (SELECT clip_id FROM c)),
     u AS (SELECT status, created_at FROM upload_jobs WHERE CAST(clip_id AS VARCHAR) IN (SELECT clip_id FROM c))
SELECT (SELECT count(*) FROM v) AS videos,
       (SELECT count(*) FROM c) AS clips,
       (SELECT count(*) FROM u WHERE status IN ('PENDING', 'DEFERRED', 'SCHEDULED')) AS upload_queue,
       greatest((SELECT max(created_at) FROM videos WHERE list_contains($1, creator)),
                (SELECT max(created_at) FROM r),
                (SELECT max(created_at) FROM u)) AS last_activity,
       (SELECT list({'day': day, 'renders': n} ORDER BY day)
        FROM (SELECT CAST(created_at AS DATE) AS day, count(*) AS n FROM r
              WHERE CAST(created_at AS DATE) >= $2 GROUP BY ALL)) AS throughput
