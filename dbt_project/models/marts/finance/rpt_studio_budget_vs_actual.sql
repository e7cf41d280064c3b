-- The studio budget-vs-actual report (SPEC §8) as rows: department → account, fiscal year to date at as-of,
-- with department subtotals and the studio total. Like with like: the closed months' budget in full and the
-- as-of month's budget prorated to the days elapsed (its actuals cover only those days), each line item's share
-- rounded to the cent; subtotals and the total are sums of the rows above them. The CLI prints it as it is.
{%- set days_elapsed = dbt.datediff(as_of_period(), as_of_date(), 'day') ~ ' + 1' %}
{%- set days_in_as_of_month = days_in_month(as_of_period()) %}
with fytd as (
    select
        li.*,
        case when li.period = {{ as_of_period() }}
            -- SPEC §6 theoretical budget to date: budget × elapsed days / days of its period
            then cast(round(cast(li.budget as decimal(38, 10)) * ({{ days_elapsed }}) / ({{ days_in_as_of_month }}), 2)
                      as decimal(18, 2))
            else li.budget end as budget_to_date
    from {{ ref('mart_line_item_variance') }} as li
    where li.fiscal_year_start = {{ fiscal_year_start(as_of_period()) }}
),
accounts as (
    select
        'account' as row_type, f.department_code, f.account_code, f.account_type,
        sum(f.budget_to_date) as budget, sum(f.actual) as actual
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
department_totals as (
    -- every department, its expense accounts summed (zeros where it has none)
    select
        d.department_code, d.department_name,
        coalesce(sum(a.budget), 0) as budget, coalesce(sum(a.actual), 0) as actual
    from {{ ref('stg_departments') }} as d
    left join accounts as a on a.department_code = d.department_code and a.account_type = 'expense'
    group by d.department_code, d.department_name
),
department_rows as (
    select
        'department' as row_type, t.department_code, t.department_name, cast(null as string) as account_code,
        cast(null as string) as account_name, 'expense' as account_type,
        t.budget, t.actual,
        {{ variance_columns('t.budget', 't.actual', "'expense'", 'thr') }}
    from department_totals as t
    cross join (select * from {{ ref('materiality_thresholds') }} where level = 'department') as thr
),
studio_row as (
    select
        'studio' as row_type, cast(null as string) as department_code, cast(null as string) as department_name,
        cast(null as string) as account_code, cast(null as string) as account_name, 'expense' as account_type,
        s.budget, s.actual,
        {{ variance_columns('s.budget', 's.actual', "'expense'", 'thr') }}
    from (select coalesce(sum(budget), 0) as budget, coalesce(sum(actual), 0) as actual from department_totals) as s
    cross join (select * from {{ ref('materiality_thresholds') }} where level = 'studio') as thr
)
select
    r.*,
    {{ as_of_date() }} as as_of,
    {{ fiscal_year_start(as_of_period()) }} as fiscal_year_start,
    -- report order within a department: its accounts, then its subtotal; the studio total last
    case r.row_type when 'studio' then 3 when 'department' then 2 else 1 end as row_order,
    -- the as-of month's budget is prorated by these
    cast({{ days_elapsed }} as integer) as as_of_month_days_elapsed,
    cast({{ days_in_as_of_month }} as integer) as as_of_month_days
from (
    select * from account_rows
    union all select * from department_rows
    union all select * from studio_row
) as r
