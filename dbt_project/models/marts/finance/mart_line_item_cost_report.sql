-- The project cost report per line item (project × expense account), lifetime at as-of (SPEC §6): the film-style
-- weekly cost report's lines. Categories and projects sum these lines (mart_project_category_variance,
-- mart_project_variance).
select
    l.project_code,
    l.department_code,
    l.project_status,
    l.account_code,
    a.account_name,
    l.category,
    l.original_budget,
    l.current_budget,
    l.change_order_budget,
    l.transfers_in,
    l.transfers_out,
    l.final_budget,
    l.posted_actual,
    l.accrued_actual,
    l.actual,
    l.committed,
    l.total_cost,
    l.etc_basis,
    l.etc,
    l.etc_estimated_on,
    l.efc,
    l.over_under,
    l.over_under_pct,
    -- share of the final budget spent
    {{ safe_divide('l.actual * 100', 'l.final_budget') }} as burn_pct,
    l.over_under < 0 as is_over
from {{ ref('int_line_item_lifetime') }} as l
left join {{ ref('stg_accounts') }} as a on l.account_code = a.account_code
