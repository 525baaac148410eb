-- Eclipse's actions (retry | defer | quarantine) on each failed run in $1 (a list of run ids).
SELECT run_id, list(DISTINCT action ORDER BY action) AS actions
FROM eclipse_decisions
WHERE list_contains($1, run_id)
GROUP BY run_id
