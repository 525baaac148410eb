-- Runs of a job whose failures Eclipse classed as bad input or conflict (they say nothing
-- about the stage's health). $1 job name.
SELECT DISTINCT run_id
FROM eclipse_decisions
WHERE failure_class IN ('bad_input', 'conflict') AND job_name = $1
