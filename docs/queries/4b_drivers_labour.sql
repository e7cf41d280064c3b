-- 4. What is driving a labour variance? Rate, hours, overtime premium and fringe parts per line-item month
-- (they add up to labour_variance), the freelance share, and the part that is only exchange rates.
SELECT
    project_code,
    account_code,
    period,
    budget_hours,
    actual_hours,
    budget_rate,
    actual_rate,
    labour_variance,
    rate_variance,
    hours_variance,
    overtime_premium,
    fringe_cost,
    freelance_share_pct,
    fx_variance
FROM marts.mart_labor_variance
ORDER BY abs(labour_variance) DESC, project_code, account_code, period
