-- Pantheon's votes on one candidate, by agent. $1 candidate id.
SELECT agent, vote, score, confidence, reason
FROM pantheon_votes
WHERE CAST(candidate_id AS VARCHAR) = $1
ORDER BY agent
