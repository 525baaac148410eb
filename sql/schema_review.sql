-- Review before publish (#28): a person's decisions on clips, their edits of the copy and of
-- the span. Each table appends (one Parquet file per row); the latest row per clip wins.

CREATE TABLE clip_reviews (
    review_id UUID NOT NULL,
    clip_id UUID NOT NULL,
    partition_key TEXT NOT NULL,   -- the clip's partition, rank|video
    decision TEXT NOT NULL,        -- approve | reject
    reason TEXT,                   -- required for reject
    author TEXT NOT NULL,          -- the API key id (or "operator")
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE clip_copy_edits (
    edit_id UUID NOT NULL,
    clip_id UUID NOT NULL,
    partition_key TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    keywords TEXT[],
    author TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE clip_recuts (
    recut_id UUID NOT NULL,
    clip_id UUID NOT NULL,
    partition_key TEXT NOT NULL,
    start_time DOUBLE NOT NULL,    -- seconds in the source video
    end_time DOUBLE NOT NULL,
    author TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
