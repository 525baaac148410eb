-- Clip candidates of some videos. $1 video keys, $2: 'selected' | 'rejected' | 'any'.
SELECT cc.candidate_id, cc.video_key, cc.start_time, cc.end_time, cc.score, cc.consensus, cc.selected_rank,
       cc.rejected_because, c.clip_id
FROM clip_candidates cc
LEFT JOIN clips c ON c.candidate_id = cc.candidate_id
WHERE list_contains($1, cc.video_key)
  AND ($2 = 'any' OR ($2 = 'selected') = (cc.selected_rank IS NOT NULL))
ORDER BY cc.video_key, cc.selected_rank NULLS LAST, cc.consensus DESC NULLS LAST
