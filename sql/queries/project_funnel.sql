-- The funnel of one project (#28): how far its creators' material got, stage by stage.
-- $1: its creators. "uploaded": on YouTube (any privacy); "published": live, or its scheduled
-- time has passed. The approved stage is counted apart (project_approved: the review table).
-- Ids compare as text: a table with no Parquet file yet is typed by the DDL (UUID), one with
-- files by them.
WITH v AS (SELECT DISTINCT video_key FROM videos WHERE list_contains($1, creator)),
     c AS (SELECT DISTINCT CAST(clips.clip_id AS VARCHAR) AS clip_id FROM clips JOIN v USING (video_key)),
     u AS (SELECT DISTINCT ON (clip_id) CAST(clip_id AS VARCHAR) AS clip_id, status, yt_video_id, scheduled_time
           FROM upload_jobs
           WHERE CAST(clip_id AS VARCHAR) IN (SELECT clip_id FROM c)
           ORDER BY clip_id, created_at DESC)
SELECT (SELECT count(DISTINCT post_id) FROM posts WHERE list_contains($1, creator)) AS posts,
       (SELECT count(*) FROM v) AS videos,
       (SELECT count(DISTINCT candidate_id) FROM clip_candidates JOIN v USING (video_key)) AS candidates,
       (SELECT count(*) FROM c) AS selected,
       (SELECT count(DISTINCT CAST(clip_id AS VARCHAR)) FROM renders
        WHERE CAST(clip_id AS VARCHAR) IN (SELECT clip_id FROM c)) AS rendered,
       (SELECT count(*) FROM u
        WHERE yt_video_id IS NOT NULL OR status IN ('UPLOADED', 'SCHEDULED', 'LIVE')) AS uploaded,
       (SELECT count(*) FROM u
        WHERE status = 'LIVE' OR (yt_video_id IS NOT NULL AND scheduled_time <= now())) AS published
