-- One clip's title and keywords (Chorus). $1 clip id.
SELECT title, keywords FROM clip_copy WHERE CAST(clip_id AS VARCHAR) = $1
