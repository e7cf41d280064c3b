-- The studio budget-vs-actual report (SPEC §8) as rows: department → account, fiscal year to
-- date at as-of, with department subtotals and the studio total. The CLI prints it as it is.
with fytd as (
    select *
    from {{ ref('mart_line_item_variance') }}
    where fiscal_year_start = {{ fiscal_year_start(as_of_period()) }}
),
accounts as (
    select
        'account' as row_type, f.department_code, f.account_code, f.account_type,
        sum(f.budget) as budget, sum(f.actual) as actual
    from fytd as f
    group by f.department_code, f.account_code, f.account_type
),
account_rows as (
    select
        a.row_type, a.department_code, d.department_name, a.account_code, acc.account_name, a.account_type,
        a.budget, a.actual,
        {{ variance_columns('a.budget', 'a.actual', 'a.account_type', 'thr') }}
    from accounts as a
    left join {{ ref('stg_departments') }} as d on a.department_code = d.department_code
    left join {{ ref('stg_accounts') }} as acc on a.account_code = acc.account_code
    cross join (select * from {{ ref('materiality_thresholds') }} where level = 'line_item') as thr
),
{#- a roll-up's fiscal YTD figures under the report's column names -#}
{%- set ytd_figures -%}
        ytd_budget as budget, ytd_actual as actual,
        ytd_variance as variance, ytd_variance_pct as variance_pct, ytd_favorable_variance as favorable_variance,
        ytd_direction as direction, ytd_utilization_pct as utilization_pct, ytd_is_material as is_material,
        ytd_needs_attention as needs_attention
{%- endset %}
department_rows as (
    select
        'department' as row_type, department_code, department_name, cast(null as varchar) as account_code,
        cast(null as varchar) as account_name, 'expense' as account_type,
        {{ ytd_figures }}
    from {{ ref('mart_department_variance') }}
    where period = {{ as_of_period() }}
),
studio_row as (
    select
        'studio' as row_type, cast(null as varchar) as department_code, cast(null as varchar) as department_name,
        cast(null as varchar) as account_code, cast(null as varchar) as account_name, 'expense' as account_type,
        {{ ytd_figures }}
    from {{ ref('mart_studio_variance') }}
    where period = {{ as_of_period() }}
)
select
    r.*,
    {{ as_of_date() }} as as_of,
    {{ fiscal_year_start(as_of_period()) }} as fiscal_year_start,
    -- report order within a department: its accounts, then its subtotal; the studio total last
    case r.row_type when 'studio' then 3 when 'department' then 2 else 1 end as row_order
from (
    select * from account_rows
    union all select * from department_rows
    union all select * from studio_row
) as r
