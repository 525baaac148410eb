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
WHERE uj.status IN ('PENDING', 'SCHEDULED')
  AND (uj.scheduled_time >= now() OR s.final_scheduled_time >= now())
ORDER BY COALESCE(s.final_scheduled_time, uj.scheduled_time);

-- One row per published (or scheduled) clip, from the upload back to its source.
CREATE OR REPLACE VIEW clip_lineage AS
SELECT u.yt_video_id, u.status AS upload_status, u.scheduled_time,
       c.clip_id, c.rank, c.start_time, c.end_time, c.confidence,
       r.file_path AS render_path, r.checksum AS render_checksum, r.integrated_lufs,
       v.video_id, v.video_key, v.checksum AS source_checksum, v.file_path AS source_path,
       p.post_id, p.url AS source_url, p.posted_at,
       cr.creator_id, cr.username AS creator, cr.profile_url AS creator_url
FROM upload_jobs u
JOIN clips c ON c.clip_id = u.clip_id
LEFT JOIN renders r ON r.clip_id = c.clip_id
JOIN videos v ON v.video_id = c.video_id
JOIN posts p ON p.post_id = v.post_id
JOIN creators cr ON cr.creator_id = p.creator_id;

-- Every Pantheon vote with the candidate it judged and whether it won.
CREATE OR REPLACE VIEW clip_votes AS
SELECT cc.video_key, cc.candidate_id, cc.selected_rank, cc.rejected_because,
       cc.start_time, cc.end_time, cc.consensus, pv.agent, pv.vote, pv.score, pv.reason
FROM clip_candidates cc JOIN pantheon_votes pv USING (candidate_id);
