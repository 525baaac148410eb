-- Aggregates of one project. $1: its creators. Ids compared as text: a table with no data files
-- yet is read with VARCHAR columns, and DuckDB will not compare VARCHAR with UUID.
WITH v AS (SELECT DISTINCT video_key, creator FROM videos WHERE list_contains($1, creator)),
     c AS (SELECT clips.clip_id FROM clips JOIN v USING (video_key))
SELECT (SELECT count(*) FROM v) AS videos_scraped,
       (SELECT count(*) FROM renders r JOIN c ON CAST(r.clip_id AS VARCHAR) = CAST(c.clip_id AS VARCHAR)) AS clips_ready,
       (SELECT count(*) FROM c WHERE CAST(clip_id AS VARCHAR) NOT IN (SELECT CAST(clip_id AS VARCHAR) FROM upload_jobs
                                                     WHERE status IN ('SCHEDULED', 'LIVE', 'UPLOADED'))) AS clips_in_pipeline,
       (SELECT count(*) FROM upload_jobs u JOIN c ON CAST(u.clip_id AS VARCHAR) = CAST(c.clip_id AS VARCHAR)
        WHERE status IN ('PENDING', 'DEFERRED', 'SCHEDULED')) AS uploads_pending
