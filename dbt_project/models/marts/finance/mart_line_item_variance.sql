-- Budget vs actual per period × project × account (SPEC §6), monthly and fiscal YTD.
with ytd as (
    select
        li.*,
        {{ fiscal_year_start('li.period') }} as fiscal_year_start,
        {{ ytd_sum('li.original_budget', 'li.project_code, li.account_code') }} as ytd_original_budget,
        {{ ytd_sum('li.budget', 'li.project_code, li.account_code') }} as ytd_budget,
        {{ ytd_sum('li.actual', 'li.project_code, li.account_code') }} as ytd_actual
    from {{ ref('int_line_item_monthly') }} as li
)
select
    ytd.period,
    ytd.fiscal_year_start,
    ytd.project_code,
    ytd.department_code,
    ytd.account_code,
    ytd.category,
    ytd.account_type,
    ytd.original_budget,
    ytd.budget,
    ytd.posted_actual,
    ytd.accrued_actual,
    ytd.actual,
    ytd.committed,
    {{ variance_columns('ytd.budget', 'ytd.actual', 'ytd.account_type', 'thr') }},
    ytd.ytd_original_budget,
    ytd.ytd_budget,
    ytd.ytd_actual,
    {{ variance_columns('ytd.ytd_budget', 'ytd.ytd_actual', 'ytd.account_type', 'thr', prefix='ytd_') }},
    ytd.has_budget,
    ytd.has_actuals
from ytd
cross join (select * from {{ ref('materiality_thresholds') }} where level = 'line_item') as thr
