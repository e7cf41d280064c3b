-- 4. What is driving the variance? The cost records behind the largest line-item month that needs attention:
-- each posting or accrual with its vendor and person, largest first.
WITH worst AS (
    SELECT period, project_code, account_code
    FROM marts.mart_line_item_variance
    WHERE needs_attention
    ORDER BY favorable_variance, project_code, account_code, period
    LIMIT 1
)
SELECT
    c.period,
    c.project_code,
    c.account_code,
    c.cost_date,
    c.source,
    c.status,
    c.vendor,
    c.person_id,
    c.description,
    c.amount_base
FROM marts.fct_actual_costs AS c
JOIN worst USING (period, project_code, account_code)
ORDER BY c.amount_base DESC, c.cost_id
