-- Run-rate, pace and theoretical budget per scope × month (SPEC §6), expense accounts only.
{%- set levels = [
    ('line_item', "project_code || '/' || account_code", 'project_code', 'department_code', 'account_code'),
    ('project', 'project_code', 'project_code', 'department_code', 'cast(null as string)'),
    ('department', 'department_code', 'cast(null as string)', 'department_code', 'cast(null as string)'),
    ('studio', "cast('studio' as string)", 'cast(null as string)', 'cast(null as string)', 'cast(null as string)'),
] %}
with lines as (
    -- what each line adds to its year to date at this row: the rise of its YTD since its previous row of the
    -- fiscal year (its whole YTD at its first). A line has a row only in the months it has a budget, an actual
    -- or a commitment, so a scope's YTD is the running sum of these over its months, not the sum of the YTDs of
    -- the lines that have a row in that month (a line quiet this month still counts in the year to date)
    select
        period, fiscal_year_start, project_code, department_code, account_code, budget, actual,
        ytd_budget - coalesce(lag(ytd_budget) over (
            partition by project_code, account_code, fiscal_year_start order by period
        ), 0) as ytd_budget_added,
        ytd_actual - coalesce(lag(ytd_actual) over (
            partition by project_code, account_code, fiscal_year_start order by period
        ), 0) as ytd_actual_added
    from {{ ref('mart_line_item_variance') }}
    where account_type = 'expense'
),
annual_lines as (
    -- the fiscal year's whole current budget, months after the as-of included
    select
        project_code, department_code, account_code,
        {{ fiscal_year_start('period') }} as fiscal_year_start,
        sum(amount_base) as annual_budget
    from {{ ref('fct_budget_lines') }}
    where is_current and account_type = 'expense'
    group by 1, 2, 3, 4
),
scoped as (
    {%- for level, scope_key, project, department, account in levels %}
    {% if not loop.first %}union all{% endif %}
    select
        cast('{{ level }}' as string) as level, m.scope_key, m.project_code, m.department_code, m.account_code,
        m.period, m.fiscal_year_start, m.budget, m.mtd_actual,
        sum(m.ytd_budget_added) over (
            partition by m.scope_key, m.fiscal_year_start order by m.period rows between unbounded preceding and current row
        ) as ytd_budget,
        sum(m.ytd_actual_added) over (
            partition by m.scope_key, m.fiscal_year_start order by m.period rows between unbounded preceding and current row
        ) as ytd_actual,
        coalesce(a.annual_budget, 0) as annual_budget
    from (
        select
            {{ scope_key }} as scope_key, {{ project }} as project_code, {{ department }} as department_code,
            {{ account }} as account_code, period, fiscal_year_start,
            sum(budget) as budget, sum(actual) as mtd_actual,
            sum(ytd_budget_added) as ytd_budget_added, sum(ytd_actual_added) as ytd_actual_added
        from lines
        group by 1, 2, 3, 4, 5, 6
    ) as m
    left join (
        select {{ scope_key }} as scope_key, fiscal_year_start, sum(annual_budget) as annual_budget
        from annual_lines
        group by 1, 2
    ) as a on a.scope_key = m.scope_key and a.fiscal_year_start = m.fiscal_year_start
    {%- endfor %}
),
days as (
    select
        s.*,
        {{ days_in_month('s.period') }} as days_in_month,
        -- a closed month has all its days elapsed; the as-of month those up to the as-of date
        case
            when s.period < {{ as_of_period() }} then {{ days_in_month('s.period') }}
            else extract(day from {{ as_of_date() }})
        end as days_elapsed,
        {{ dbt.datediff('s.fiscal_year_start', 's.period', 'month') }} as closed_months
    from scoped as s
),
rated as (
    select
        d.*,
        d.closed_months + cast(d.days_elapsed as double) / d.days_in_month as months_elapsed,
        cast(d.ytd_budget - d.budget as double) + cast(d.budget as double) * d.days_elapsed / d.days_in_month
            as ytd_phased
    from days as d
)
select
    r.level,
    r.scope_key,
    r.project_code,
    r.department_code,
    r.account_code,
    r.period,
    r.fiscal_year_start,
    r.period = {{ as_of_period() }} as is_as_of_month,
    cast(r.budget as decimal(38, 2)) as budget,
    cast(r.mtd_actual as decimal(38, 2)) as mtd_actual,
    cast(r.days_elapsed as integer) as days_elapsed,
    cast(r.days_in_month as integer) as days_in_month,
    cast(r.days_elapsed as double) / r.days_in_month * 100 as month_elapsed_pct,
    -- SPEC §6 run-rate: MTD actual / days elapsed × days in month
    cast(r.mtd_actual as double) / r.days_elapsed * r.days_in_month as projected_month_end,
    cast(r.mtd_actual as double) / r.days_elapsed * r.days_in_month - cast(r.budget as double) as run_rate_variance,
    -- SPEC §6 theoretical budget to date: budget × elapsed days / days of its period
    cast(r.budget as double) * r.days_elapsed / r.days_in_month as theoretical_budget_to_date,
    cast(r.ytd_budget as decimal(38, 2)) as ytd_budget,
    cast(r.ytd_actual as decimal(38, 2)) as ytd_actual,
    cast(r.annual_budget as decimal(38, 2)) as annual_budget,
    r.months_elapsed,
    r.months_elapsed / 12 * 100 as year_elapsed_pct,
    -- SPEC §6 pace rate: YTD actual / (annual budget × months elapsed / 12), in percent
    case
        when r.annual_budget <> 0
            then cast(r.ytd_actual as double) / (cast(r.annual_budget as double) * r.months_elapsed / 12) * 100
    end as ytd_pace_pct,
    -- the budget phased to date: closed months whole, the as-of month prorated by its days
    cast(r.ytd_budget - r.budget as double) + cast(r.budget as double) * r.days_elapsed / r.days_in_month
        as ytd_theoretical_budget,
    -- the year's spend so far against its phased budget, carried to the whole year's budget
    case when r.ytd_phased > 0 then cast(r.ytd_actual as double) * r.annual_budget / r.ytd_phased end
        as projected_full_year,
    case when r.ytd_phased > 0 then cast(r.ytd_actual as double) * r.annual_budget / r.ytd_phased end
        - cast(r.annual_budget as double) as projected_full_year_variance,
    -- beside the cost report's EFC, never mixed into it (SPEC §6)
    case
        when r.level = 'project' and r.period = {{ as_of_period() }} and p.days_elapsed > 0
            then cast(p.actual as double) / p.days_elapsed * p.project_days
    end as projected_final_cost,
    case when r.level = 'project' and r.period = {{ as_of_period() }} then p.efc end as efc,
    case when r.level = 'project' and r.period = {{ as_of_period() }} then p.final_budget end as final_budget
from rated as r
left join {{ ref('mart_project_variance') }} as p
    on r.level = 'project' and p.project_code = r.project_code
