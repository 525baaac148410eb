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

-- The chain of one clip, one row per step: upload -> render -> clip -> selection ->
-- candidates -> analysis -> transcript -> video -> post -> creator.
CREATE OR REPLACE VIEW clip_lineage AS
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
