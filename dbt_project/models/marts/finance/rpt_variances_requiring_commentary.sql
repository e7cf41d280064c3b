-- The report's "variances requiring commentary" (SPEC §8): the line-item months of the fiscal
-- year at as-of that need attention (material and unfavourable, SPEC §6), largest first.
with requiring_commentary as (
    select
        period, project_code, account_code, budget, actual, variance, variance_pct,
        -- largest absolute variance first; period × project × account breaks ties (it is the grain)
        row_number() over (order by abs(variance) desc, period, project_code, account_code) as attention_rank,
        count(*) over () as total_requiring_commentary
    from {{ ref('mart_line_item_variance') }}
    where needs_attention
        and fiscal_year_start = {{ fiscal_year_start(as_of_period()) }}
)
select
    period, project_code, account_code, budget, actual, variance, variance_pct,
    attention_rank, total_requiring_commentary
from requiring_commentary
where attention_rank <= {{ var('report_top_variances') }}
