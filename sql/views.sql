-- Derived views (spec, Data Models section 4) and analyst lineage views.

CREATE OR REPLACE VIEW latest_analysis_per_video AS
SELECT DISTINCT ON (video_id) video_id, analysis_id, virality_score, relevance_score, created_at
FROM analysis
ORDER BY video_id, created_at DESC;

CREATE OR REPLACE VIEW best_clip_per_video AS
SELECT DISTINCT ON (video_id) video_id, clip_id, confidence, lattice_priority
FROM clips
ORDER BY video_id, confidence DESC, lattice_priority DESC;

CREATE OR REPLACE VIEW pending_edit_jobs AS
SELECT * FROM edit_jobs WHERE status = 'PENDING' ORDER BY created_at ASC;

CREATE OR REPLACE VIEW upcoming_upload_schedule AS
SELECT uj.upload_job_id, uj.clip_id, uj.title, uj.scheduled_time,
       s.final_scheduled_time, s.status AS schedule_status, uj.status AS upload_status
FROM upload_jobs uj
LEFT JOIN schedules s ON s.clip_id = uj.clip_id
WHERE uj.status IN ('PENDING', 'SCHEDULED', 'DEFERRED')
  AND (uj.scheduled_time >= now() OR s.final_scheduled_time >= now())
ORDER BY COALESCE(s.final_scheduled_time, uj.scheduled_time);

-- One row per upload, from the upload back to its source (wide).
CREATE OR REPLACE VIEW upload_sources AS
SELECT u.clip_id, u.upload_job_id, u.yt_video_id, u.status AS upload_status, u.scheduled_time,
       c.rank, c.video_key, c.candidate_id, c.start_time, c.end_time, c.confidence,
       r.file_path AS render_path, r.checksum AS render_checksum, r.encoder, r.integrated_lufs,
       a.analysis_id, t.model AS asr_model, t.word_timing, t.word_count,
       v.video_id, v.checksum AS source_checksum, v.file_path AS source_path,
       p.post_id, p.url AS source_url, p.posted_at,
       cr.creator_id, cr.username AS creator, cr.profile_url AS creator_url
FROM upload_jobs u
JOIN clips c ON c.clip_id = u.clip_id
LEFT JOIN renders r ON r.clip_id = c.clip_id
JOIN videos v ON v.video_id = c.video_id
JOIN posts p ON p.post_id = v.post_id
JOIN creators cr ON cr.creator_id = p.creator_id
LEFT JOIN analysis a ON a.video_id = v.video_id
LEFT JOIN transcripts t ON t.video_id = v.video_id;

-- Dagster's own ledger, as lineage: every materialization names the exact parent
-- materializations it was made from (``lineage/parents`` in its metadata, mirrored here as
-- ``parents``: asset, partition, run id, storage id), so a walk goes from an upload back to the
-- creator. A materialization is found by (asset, partition, run): SQLite instances number
-- events per run, so storage ids alone are not unique there.
CREATE OR REPLACE VIEW materialization_parents AS
SELECT m.asset_key, m.partition_key, m.run_id,
       p.asset AS parent_asset, p."partition" AS parent_partition, p.run_id AS parent_run_id,
       p.storage_id AS parent_storage_id
FROM dagster_materializations m,
     UNNEST(from_json(CAST(m.parents AS JSON),
                      '[{"asset": "VARCHAR", "partition": "VARCHAR", "run_id": "VARCHAR", "storage_id": "BIGINT"}]')) AS t(p);

-- The chain of one clip, one row per materialization it was made from: upload -> render,
-- copy, plan -> clip -> selection -> candidates -> analysis -> transcript -> video -> post
-- -> creator, from Dagster's event log (run, event, data version), with the Stardust packet
-- of each step attached.
CREATE OR REPLACE VIEW clip_lineage AS
WITH RECURSIVE
mats AS (
    SELECT DISTINCT ON (asset_key, coalesce(partition_key, ''), run_id) *
    FROM dagster_materializations
    ORDER BY asset_key, coalesce(partition_key, ''), run_id, created_at DESC
),
starts AS (
    SELECT DISTINCT ON (partition_key) asset_key, partition_key, run_id,
           TRY_CAST(json_extract_string(metadata, '$.clip_id') AS UUID) AS clip_id,
           json_extract_string(metadata, '$.yt_video_id') AS yt_video_id
    FROM mats WHERE asset_key = 'uploads'
    ORDER BY partition_key, created_at DESC
),
walk(clip_id, yt_video_id, asset_key, partition_key, run_id) AS (
    SELECT clip_id, yt_video_id, asset_key, partition_key, run_id FROM starts
    UNION
    SELECT w.clip_id, w.yt_video_id, e.parent_asset, e.parent_partition, e.parent_run_id
    FROM walk w
    JOIN materialization_parents e
      ON e.asset_key = w.asset_key AND e.run_id = w.run_id
     AND coalesce(e.partition_key, '') = coalesce(w.partition_key, '')
    WHERE e.parent_run_id IS NOT NULL
),
steps(asset_key, step_order, step) AS (
    VALUES ('uploads', 1, 'upload'), ('renders', 2, 'render'), ('clip_copy', 3, 'copy'),
           ('publish_plan', 4, 'plan'), ('clips', 5, 'clip'), ('clip_selections', 6, 'selection'),
           ('clip_candidates', 7, 'candidates'), ('analyses', 8, 'analysis'),
           ('transcripts', 9, 'transcript'), ('videos', 10, 'video'), ('posts', 11, 'post'),
           ('creators', 12, 'creator')
)
SELECT w.clip_id, w.yt_video_id, s.step_order, s.step, m.asset_key, m.partition_key,
       m.run_id, m.storage_id, m.data_version,
       json_extract_string(m.metadata, '$.sha256') AS checksum,
       CASE m.asset_key
           WHEN 'uploads' THEN json_extract_string(m.metadata, '$.yt_video_id')
           WHEN 'renders' THEN json_extract_string(m.metadata, '$.file')
           WHEN 'videos' THEN json_extract_string(m.metadata, '$.file')
           WHEN 'clip_copy' THEN json_extract_string(m.metadata, '$.title')
           ELSE coalesce(json_extract_string(m.metadata, '$."stardust/source_url"'), m.partition_key)
       END AS location,
       CASE m.asset_key
           WHEN 'uploads' THEN 'scheduled ' || json_extract_string(m.metadata, '$.publish_at')
           WHEN 'renders' THEN json_extract_string(m.metadata, '$.encoder') || ', '
                || json_extract_string(m.metadata, '$.integrated_lufs') || ' LUFS'
           WHEN 'clips' THEN json_extract_string(m.metadata, '$.source_span')
           WHEN 'clip_selections' THEN json_extract_string(m.metadata, '$.selected') || ' clip(s) selected'
           WHEN 'videos' THEN json_extract_string(m.metadata, '$.fetched_by')
           WHEN 'posts' THEN json_extract_string(m.metadata, '$.post_count') || ' post(s) listed'
           ELSE NULL
       END AS detail,
       json_extract_string(m.metadata, '$."stardust/id"') AS stardust_id,
       sd.lineage AS packet
FROM (SELECT DISTINCT * FROM walk) w
JOIN mats m
  ON m.asset_key = w.asset_key AND m.run_id = w.run_id
 AND coalesce(m.partition_key, '') = coalesce(w.partition_key, '')
JOIN steps s ON s.asset_key = m.asset_key
LEFT JOIN stardust_metadata sd
       ON CAST(sd.stardust_id AS VARCHAR) = json_extract_string(m.metadata, '$."stardust/id"');

-- The same chain from the warehouse's own tables joined by hand: the cross-check of
-- clip_lineage (tests assert the two agree for every clip).
CREATE OR REPLACE VIEW clip_lineage_joins AS
WITH s AS (SELECT * FROM upload_sources)
SELECT clip_id, yt_video_id, 1 AS step_order, 'upload' AS step, 'uploads' AS asset_key,
       CAST(upload_job_id AS VARCHAR) AS entity_id, NULL AS checksum, yt_video_id AS location,
       'scheduled ' || CAST(scheduled_time AS VARCHAR) AS detail FROM s
UNION ALL
SELECT clip_id, yt_video_id, 2, 'render', 'renders', CAST(clip_id AS VARCHAR), render_checksum, render_path,
       encoder || ', ' || CAST(round(integrated_lufs, 1) AS VARCHAR) || ' LUFS' FROM s
UNION ALL
SELECT clip_id, yt_video_id, 3, 'clip', 'clips', CAST(clip_id AS VARCHAR), NULL, video_key,
       'rank ' || CAST(rank AS VARCHAR) || ', ' || CAST(start_time AS VARCHAR) || '-' || CAST(end_time AS VARCHAR) || ' s' FROM s
UNION ALL
SELECT clip_id, yt_video_id, 4, 'selection', 'clip_selections', CAST(candidate_id AS VARCHAR), NULL, video_key,
       'consensus ' || CAST(round(confidence, 3) AS VARCHAR) FROM s
UNION ALL
SELECT s.clip_id, s.yt_video_id, 5, 'candidates', 'clip_candidates', CAST(s.candidate_id AS VARCHAR), NULL, s.video_key,
       CAST((SELECT count(*) FROM clip_candidates cc WHERE cc.video_key = s.video_key) AS VARCHAR) || ' candidates' FROM s
UNION ALL
SELECT clip_id, yt_video_id, 6, 'analysis', 'analyses', CAST(analysis_id AS VARCHAR), NULL, video_key, NULL FROM s
UNION ALL
SELECT clip_id, yt_video_id, 7, 'transcript', 'transcripts', CAST(video_id AS VARCHAR), NULL, video_key,
       asr_model || ' (' || word_timing || ')' FROM s
UNION ALL
SELECT clip_id, yt_video_id, 8, 'video', 'videos', CAST(video_id AS VARCHAR), source_checksum, source_path, NULL FROM s
UNION ALL
SELECT clip_id, yt_video_id, 9, 'post', 'posts', CAST(post_id AS VARCHAR), NULL, source_url,
       'posted ' || CAST(posted_at AS VARCHAR) FROM s
UNION ALL
SELECT clip_id, yt_video_id, 10, 'creator', 'creators', CAST(creator_id AS VARCHAR), NULL, creator_url, creator FROM s;

-- Which models and encoders produced what.
CREATE OR REPLACE VIEW model_usage AS
SELECT 'asr' AS kind, model AS name, word_timing AS detail, count(*) AS uses FROM transcripts GROUP BY ALL
UNION ALL
SELECT 'nlp', json_extract_string(raw_ai_output, '$.nlp_pipeline'), NULL, count(*) FROM analysis GROUP BY ALL
UNION ALL
SELECT 'encoder', encoder, NULL, count(*) FROM renders GROUP BY ALL;

-- How long each stage takes, from Dagster's step statistics.
CREATE OR REPLACE VIEW stage_durations AS
SELECT step_key AS stage, count(*) AS steps, count(*) FILTER (WHERE status = 'SUCCESS') AS succeeded,
       count(*) FILTER (WHERE status = 'FAILURE') AS failed,
       round(avg(duration_s), 3) AS avg_s, round(median(duration_s), 3) AS median_s,
       round(max(duration_s), 3) AS max_s, round(sum(duration_s), 3) AS total_s
FROM dagster_steps
GROUP BY step_key;

-- Asset checks that did not pass (Paradox and spec checks).
CREATE OR REPLACE VIEW check_failures AS
SELECT asset_key, check_name, partition_key, severity, description, run_id, created_at
FROM dagster_checks
WHERE NOT passed;

-- Steps that failed, with the reason the asset logged.
CREATE OR REPLACE VIEW failed_steps AS
SELECT st.step_key, st.partition_key, st.run_id, st.ended_at, l.message
FROM dagster_steps st
LEFT JOIN logs l ON json_extract_string(l.metadata, '$.run_id') = st.run_id AND l.source = st.step_key
WHERE st.status = 'FAILURE';

-- Every Pantheon vote with the candidate it judged and whether it won.
CREATE OR REPLACE VIEW clip_votes AS
SELECT cc.video_key, cc.candidate_id, cc.selected_rank, cc.rejected_because,
       cc.start_time, cc.end_time, cc.consensus, pv.agent, pv.vote, pv.score, pv.reason
FROM clip_candidates cc JOIN pantheon_votes pv USING (candidate_id);
