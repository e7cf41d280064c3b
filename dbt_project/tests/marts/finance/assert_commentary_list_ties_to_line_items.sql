-- The commentary list (SPEC §8) is the top of mart_line_item_variance's needs-attention rows of the
-- fiscal year at as-of: its count is theirs, each listed row is one of them with the same figures,
-- and ranks run 1..n without a gap.
with attention as (
    select period, project_code, account_code, budget, actual, variance
    from {{ ref('mart_line_item_variance') }}
    where needs_attention and fiscal_year_start = {{ fiscal_year_start(as_of_period()) }}
),
listed as (
    select * from {{ ref('rpt_variances_requiring_commentary') }}
)
select 'total is not the count of needs-attention rows' as problem, l.period, l.project_code, l.account_code
from listed as l
where l.total_requiring_commentary <> (select count(*) from attention)
union all
select 'not a needs-attention row of the fiscal year, or other figures', l.period, l.project_code, l.account_code
from listed as l
left join attention as a
    on l.period = a.period and l.project_code = a.project_code and l.account_code = a.account_code
where a.period is null or a.budget <> l.budget or a.actual <> l.actual or a.variance <> l.variance
union all
select 'ranks do not run 1..n', cast(null as date), cast(null as string), cast(null as string)
from listed
having count(*) > 0 and max(attention_rank) <> count(*)
union all
select 'not the top n rows, or all when fewer', cast(null as date), cast(null as string), cast(null as string)
from listed
having count(*) <> case
    when (select count(*) from attention) < {{ var('report_top_variances') }} then (select count(*) from attention)
    else {{ var('report_top_variances') }}
end
