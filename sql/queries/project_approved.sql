-- Rendered clips of one project whose latest review (clip_reviews, #28) approves them.
-- $1: its creators. Ids compare as text (see project_funnel).
WITH c AS (SELECT DISTINCT CAST(clips.clip_id AS VARCHAR) AS clip_id FROM clips
           JOIN (SELECT DISTINCT video_key FROM videos WHERE list_contains($1, creator)) v USING (video_key)),
     r AS (SELECT DISTINCT ON (CAST(clip_id AS VARCHAR)) CAST(clip_id AS VARCHAR) AS clip_id, decision
           FROM clip_reviews
           WHERE CAST(clip_id AS VARCHAR) IN (SELECT clip_id FROM c)
           ORDER BY CAST(clip_id AS VARCHAR), created_at DESC, review_id)
SELECT count(*) AS approved FROM r
WHERE lower(decision) IN ('approve', 'approved')
  AND clip_id IN (SELECT CAST(clip_id AS VARCHAR) FROM renders)
