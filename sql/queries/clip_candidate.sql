-- The candidate a clip was cut from. $1 candidate id.
SELECT * FROM clip_candidates WHERE CAST(candidate_id AS VARCHAR) = $1
