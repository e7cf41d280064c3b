-- 5. What action does it require? Every material line-item month (favourable or unfavourable: direction): the owner's
-- commentary or how many days it has been missing, and the explanation drafted from its cost records.
SELECT
    period,
    project_code,
    account_code,
    variance,
    variance_pct,
    commentary_status,
    days_missing,
    variance_class,
    drafted_explanation
FROM marts.mart_variance_commentary
ORDER BY variance DESC, project_code, account_code, period
