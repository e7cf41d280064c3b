-- Period × department, monthly and fiscal YTD, cost with revenue beside it (SPEC §6).
{{ monthly_rollup(
    keys=['department_code'],
    dimensions="select department_code, department_name from " ~ ref('stg_departments'),
    level='department',
    split_revenue=true
) }}
