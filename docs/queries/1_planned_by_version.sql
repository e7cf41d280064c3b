-- 1. What was planned? Each project's budget by version (original, later approved versions, reforecasts),
-- in the base currency.
SELECT
    project_code,
    budget_version,
    version_status,
    is_original,
    is_current,
    sum(amount_base) AS budget_base
FROM marts.fct_budget_lines
WHERE account_type = 'expense'
GROUP BY ALL
ORDER BY project_code, min(period), budget_version
