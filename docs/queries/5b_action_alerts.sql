-- 5. What action does it require? The alerts holding at the as-of date and who they go to (critical first).
SELECT
    alert_type,
    level,
    scope,
    scope_key,
    severity,
    metric_name,
    metric_value,
    threshold_value,
    notify_role,
    notify_email,
    message
FROM marts.mart_variance_alerts
ORDER BY severity, alert_type, scope_key
