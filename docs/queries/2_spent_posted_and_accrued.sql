-- 2. What has been spent? Each project's cost to the as-of date: posted in the ledger, incurred but not yet
-- posted (accrued: timesheets, rentals, invoices), and both.
SELECT
    project_code,
    sum(posted_actual) AS posted_actual,
    sum(accrued_actual) AS accrued_actual,
    sum(actual) AS actual
FROM marts.mart_line_item_variance
WHERE account_type = 'expense'
GROUP BY project_code
ORDER BY actual DESC
