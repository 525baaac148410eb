-- One clip's copy as Chorus wrote it (before templates and a person's edits). $1 clip id.
SELECT CAST(clip_id AS VARCHAR) AS clip_id, title, description, keywords, category_id, language
FROM clip_copy WHERE CAST(clip_id AS VARCHAR) = $1
