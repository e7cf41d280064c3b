-- The department report's "variances requiring commentary" (SPEC §8: the report per department too): each
-- department's own line-item months of the fiscal year at as-of that need attention, ranked within the department,
-- largest first. The studio's list (rpt_variances_requiring_commentary) keeps the studio's largest only, among which
-- a department may have none while it owes commentary on several.
with requiring_commentary as (
    select
        department_code, period, project_code, account_code, budget, actual, variance, variance_pct,
        -- largest absolute variance first; period × project × account breaks ties (it is the grain)
        row_number() over (
            partition by department_code order by abs(variance) desc, period, project_code, account_code
        ) as department_rank,
        count(*) over (partition by department_code) as department_total
    from {{ ref('mart_line_item_variance') }}
    where needs_attention
        and fiscal_year_start = {{ fiscal_year_start(as_of_period()) }}
)
select
    department_code, period, project_code, account_code, budget, actual, variance, variance_pct,
    department_rank, department_total
from requiring_commentary
where department_rank <= {{ var('report_top_variances') }}
