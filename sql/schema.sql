-- Omniva warehouse tables (DuckDB dialect), after the spec's Data Models section.
-- Each asset partition writes its rows to one Parquet file per table
-- (warehouse/<table>/<partition>.parquet, replaced atomically on rerun); the DuckDB
-- file holds views over those files, so concurrent runs never share a writer.
-- Ids are UUIDs derived from natural keys (uuid5), stable across reruns.

CREATE TABLE creators (
    creator_id UUID NOT NULL,
    platform TEXT NOT NULL,
    username TEXT NOT NULL,
    profile_url TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE posts (
    post_id UUID NOT NULL,
    creator_id UUID NOT NULL,
    creator TEXT NOT NULL,
    platform_post_id TEXT NOT NULL,
    url TEXT NOT NULL,
    title TEXT,
    posted_at TIMESTAMPTZ,
    listed_on DATE NOT NULL,
    video_key TEXT NOT NULL,
    raw_metadata JSON
);

CREATE TABLE videos (
    video_id UUID NOT NULL,
    post_id UUID NOT NULL,
    video_key TEXT NOT NULL,
    creator TEXT NOT NULL,
    source_url TEXT NOT NULL,
    file_path TEXT NOT NULL,
    duration_seconds DOUBLE,
    resolution TEXT,
    checksum TEXT NOT NULL,
    ffprobe JSON,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE transcripts (
    video_id UUID NOT NULL,
    video_key TEXT NOT NULL,
    language TEXT NOT NULL,
    language_probability DOUBLE,  -- the detector's confidence; NULL when the language was pinned
    model TEXT NOT NULL,
    word_timing TEXT NOT NULL,
    text TEXT NOT NULL,
    word_count INTEGER NOT NULL,
    words JSON NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE analysis (
    analysis_id UUID NOT NULL,
    video_id UUID NOT NULL,
    video_key TEXT NOT NULL,
    transcript TEXT,
    keywords TEXT[],
    virality_score DOUBLE,
    relevance_score DOUBLE,
    raw_ai_output JSON,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE clip_candidates (
    candidate_id UUID NOT NULL,
    video_id UUID NOT NULL,
    video_key TEXT NOT NULL,
    start_time DOUBLE NOT NULL,
    end_time DOUBLE NOT NULL,
    score DOUBLE NOT NULL,
    consensus DOUBLE,
    selected_rank INTEGER,
    rejected_because TEXT,
    semantic_tags TEXT[],
    features JSON,
    text TEXT,
    dissent TEXT[]  -- "agent: reason" for every agent that did not vote yes
);

CREATE TABLE pantheon_votes (
    candidate_id UUID NOT NULL,
    video_key TEXT NOT NULL,
    agent TEXT NOT NULL,
    score DOUBLE NOT NULL,
    vote TEXT NOT NULL,
    confidence DOUBLE NOT NULL,
    reason TEXT NOT NULL
);

CREATE TABLE clips (
    clip_id UUID NOT NULL,
    video_id UUID NOT NULL,
    video_key TEXT NOT NULL,
    rank INTEGER NOT NULL,
    candidate_id UUID NOT NULL,
    start_time DOUBLE NOT NULL,
    end_time DOUBLE NOT NULL,
    confidence DOUBLE,
    semantic_tags TEXT[],
    pantheon_votes JSON,
    lattice_priority DOUBLE,
    metadata JSON
);

CREATE TABLE edit_jobs (
    edit_job_id UUID NOT NULL,
    clip_id UUID NOT NULL,
    operations JSON NOT NULL,
    ffmpeg_commands TEXT[],
    gpu_required BOOLEAN,
    estimated_duration_seconds INTEGER,
    status TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    timeline_path TEXT,               -- OpenTimelineIO (.otio) export of the edit decision list
    output_duration_seconds DOUBLE,
    crossfade_seconds DOUBLE
);

CREATE TABLE renders (
    clip_id UUID NOT NULL,
    file_path TEXT NOT NULL,
    checksum TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    duration_seconds DOUBLE NOT NULL,
    resolution TEXT NOT NULL,
    video_codec TEXT NOT NULL,
    audio_codec TEXT NOT NULL,
    integrated_lufs DOUBLE,
    true_peak_dbtp DOUBLE,
    encoder TEXT NOT NULL,
    thumbnail_path TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    layout TEXT,                      -- crop (follows a face) | split | fit-on-blurred | waveform
    reframe JSON,                     -- faces seen, speaker switches, crop path keyframes, jitter
    srt_path TEXT,                    -- SRT sidecar, times in the render's timeline
    captions_burned BOOLEAN,
    faststart BOOLEAN,                -- moov before mdat
    video_profile TEXT,
    pix_fmt TEXT,
    audio_sample_rate INTEGER,
    loudness_corrections JSON         -- gain passes after loudnorm, and why
);

CREATE TABLE clip_copy (
    clip_id UUID NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    keywords TEXT[],
    category_id TEXT,
    language TEXT  -- the clip's spoken language, which the copy is written in
);

CREATE TABLE schedules (
    schedule_id UUID NOT NULL,
    clip_id UUID NOT NULL,
    clip_key TEXT NOT NULL,
    channel TEXT NOT NULL,
    recommended_time TIMESTAMPTZ,
    final_scheduled_time TIMESTAMPTZ,
    horizon_adjustments JSON,
    status TEXT NOT NULL
);

CREATE TABLE upload_jobs (
    upload_job_id UUID NOT NULL,
    clip_id UUID NOT NULL,
    title TEXT,
    description TEXT,
    keywords TEXT[],
    scheduled_time TIMESTAMPTZ,
    privacy_status TEXT,
    yt_video_id TEXT,
    api_root TEXT,
    status TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE stardust_metadata (
    stardust_id UUID NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id UUID NOT NULL,
    asset_key TEXT NOT NULL,
    partition_key TEXT,
    trace_id UUID NOT NULL,
    run_id TEXT,
    lineage JSON NOT NULL,
    decision_chain JSON,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE logs (
    log_id UUID NOT NULL,
    source TEXT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    metadata JSON,
    created_at TIMESTAMPTZ NOT NULL
);
