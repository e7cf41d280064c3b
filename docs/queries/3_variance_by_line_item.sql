-- 3. Where is the variance? Every line item (project × account) fiscal year to date at the as-of month,
-- largest unfavourable first.
SELECT
    project_code,
    account_code,
    category,
    ytd_budget,
    ytd_actual,
    ytd_variance,
    ytd_variance_pct,
    ytd_direction,
    ytd_needs_attention
FROM marts.mart_line_item_variance
WHERE period = (SELECT date_trunc('month', as_of) FROM audit.publications ORDER BY published_at DESC LIMIT 1)
ORDER BY ytd_favorable_variance, project_code, account_code
