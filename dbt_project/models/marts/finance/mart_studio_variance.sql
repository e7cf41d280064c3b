-- Period × the whole studio, monthly and fiscal YTD, cost with revenue beside it (SPEC §6).
{{ monthly_rollup(keys=[], dimensions="select cast('studio' as string) as scope", level='studio', split_revenue=true) }}
