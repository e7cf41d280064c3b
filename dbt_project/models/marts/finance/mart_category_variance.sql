-- Period × cost category across all projects, monthly and fiscal YTD (SPEC §6).
{{ monthly_rollup(
    keys=['category'],
    dimensions="select category, max(account_type) as account_type from " ~ ref('stg_accounts') ~ " group by category",
    level='category',
    split_revenue=false
) }}
