-- One clip by id, with its creator, edit job, render and upload job.
SELECT c.clip_id, c.video_id, c.video_key, c.rank, v.creator, c.start_time, c.end_time, c.confidence,
       c.semantic_tags, c.pantheon_votes, c.lattice_priority, c.metadata,
       e.edit_job_id, e.status AS edit_status, e.gpu_required, e.timeline_path,
       r.file_path AS render_path, r.checksum AS render_checksum, r.duration_seconds AS render_duration,
       u.upload_job_id, u.status AS upload_status, u.yt_video_id, u.scheduled_time, u.privacy_status,
       u.api_root AS upload_api_root, u.title AS upload_title
FROM clips c
JOIN (SELECT DISTINCT video_key, creator FROM videos) v ON v.video_key = c.video_key
LEFT JOIN edit_jobs e ON e.clip_id = c.clip_id
LEFT JOIN renders r ON r.clip_id = c.clip_id
LEFT JOIN upload_jobs u ON u.clip_id = c.clip_id
WHERE CAST(c.clip_id AS VARCHAR) = $1
