-- Aggregates of one project. $1: its creators.
WITH v AS (SELECT DISTINCT video_key, creator FROM videos WHERE list_contains($1, creator)),
     c AS (SELECT clips.clip_id FROM clips JOIN v USING (video_key))
SELECT (SELECT count(*) FROM v) AS videos_scraped,
       (SELECT count(*) FROM renders JOIN c USING (clip_id)) AS clips_ready,
       (SELECT count(*) FROM c WHERE clip_id NOT IN (SELECT clip_id FROM upload_jobs
                                                     WHERE status IN ('SCHEDULED', 'LIVE', 'UPLOADED'))) AS clips_in_pipeline,
       (SELECT count(*) FROM upload_jobs JOIN c USING (clip_id)
        WHERE status IN ('PENDING', 'DEFERRED', 'SCHEDULED')) AS uploads_pending
