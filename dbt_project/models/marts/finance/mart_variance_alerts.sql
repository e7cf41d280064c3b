-- The alerts that hold at the as-of date (SPEC §7): six rules at month, fiscal-year and project-lifetime
-- scope. When an alert was first raised is kept outside dbt, at publish (audit.alert_history).
with thr as (
    select
        max(case when alert_type = 'overspend_warning' then metric_pct end) as warning_pct,
        max(case when alert_type = 'overspend_warning' then elapsed_pct end) as warning_elapsed_pct,
        max(case when alert_type = 'overspend_breach' then metric_pct end) as breach_pct,
        max(case when alert_type = 'year_end_projection' then metric_pct end) as projection_pct,
        max(case when alert_type = 'underspend' then metric_pct end) as underspend_pct,
        max(case when alert_type = 'underspend' then elapsed_pct end) as underspend_elapsed_pct,
        max(case when alert_type = 'transaction_spike' then metric_pct end) as spike_pct
    from {{ ref('alert_thresholds') }}
),
month_rr as (
    select * from {{ ref('mart_run_rate') }} where period = {{ as_of_period() }}
),
year_rr as (
    -- each scope's latest month of the as-of's fiscal year up to the as-of: a scope has a row only in the months
    -- it has a budget, an actual or a commitment, and one quiet in the as-of month holds at its last row the
    -- year to date, the phased budget and the projection it holds at the as-of (its months since add nothing)
    {{ latest_of_fiscal_year(ref('mart_run_rate'), 'r.level, r.scope_key') }}
),
project_life as (
    select
        project_code, department_code, final_budget, actual, schedule_elapsed_pct,
        case when days_elapsed > 0 then cast(actual as double) / days_elapsed * project_days end as projected_final_cost
    from {{ ref('mart_project_variance') }}
),
-- one row per scope and measure: the month (month to date), the fiscal year, the project's life
measures as (
    select
        'month' as scope, level, scope_key, project_code, department_code, account_code, period,
        cast(budget as double) as budget, cast(mtd_actual as double) as actual, month_elapsed_pct as elapsed_pct,
        projected_month_end as projected
    from month_rr
    union all
    select
        'fiscal_year', level, scope_key, project_code, department_code, account_code, fiscal_year_start,
        cast(annual_budget as double), cast(ytd_actual as double),
        -- the year elapsed as its budget is phased: a budget planned for the autumn is not underspent in the spring
        case when annual_budget > 0 then ytd_theoretical_budget * 100 / cast(annual_budget as double) end,
        projected_full_year
    from year_rr
    union all
    select
        'project_lifetime', 'project', project_code, project_code, department_code, cast(null as string),
        cast(null as date), cast(final_budget as double), cast(actual as double), schedule_elapsed_pct,
        projected_final_cost
    from project_life
),
rules as (
    -- SPEC §7 overspend_warning: actual > 80% of budget while < 50% elapsed (a breach supersedes it)
    select
        'overspend_warning' as alert_type, m.*, 'utilization_pct' as metric_name,
        m.actual * 100 / m.budget as metric_value, cast(t.warning_pct as double) as threshold_value
    from measures as m cross join thr as t
    where m.budget > 0 and m.actual * 100 > m.budget * t.warning_pct and m.elapsed_pct < t.warning_elapsed_pct
        and not (m.actual * 100 > m.budget * t.breach_pct)
    union all
    -- SPEC §7 overspend_breach: actual > budget (unbudgeted spend included)
    select
        'overspend_breach', m.*, 'utilization_pct',
        case when m.budget > 0 then m.actual * 100 / m.budget end, cast(t.breach_pct as double)
    from measures as m cross join thr as t
    where m.budget >= 0 and m.actual > 0 and m.actual * 100 > m.budget * t.breach_pct
        and m.scope in ('month', 'project_lifetime')
    union all
    -- fiscal year to date against the whole year's budget: a breach once the year's budget is spent
    select
        'overspend_breach', m.*, 'utilization_pct',
        case when m.budget > 0 then m.actual * 100 / m.budget end, cast(t.breach_pct as double)
    from measures as m cross join thr as t
    where m.scope = 'fiscal_year' and m.actual > 0 and m.actual * 100 > m.budget * t.breach_pct
    union all
    -- SPEC §7 year_end_projection: the run-rate projects a full-year (or final project) overspend > 5%
    select
        'year_end_projection', m.*, 'projected_overspend_pct',
        (m.projected - m.budget) * 100 / m.budget, cast(t.projection_pct as double)
    from measures as m cross join thr as t
    where m.scope in ('fiscal_year', 'project_lifetime') and m.budget > 0
        and (m.projected - m.budget) * 100 > m.budget * t.projection_pct
    union all
    -- SPEC §7 underspend: actual < 50% of budget while > 75% elapsed
    select
        'underspend', m.*, 'utilization_pct', m.actual * 100 / m.budget, cast(t.underspend_pct as double)
    from measures as m cross join thr as t
    where m.budget > 0 and m.actual * 100 < m.budget * t.underspend_pct and m.elapsed_pct > t.underspend_elapsed_pct
),
spikes as (
    -- SPEC §7 transaction_spike: one transaction of the as-of month > 20% of its line's monthly budget
    select
        'transaction_spike' as alert_type, 'month' as scope, 'line_item' as level,
        -- the record the cost comes from: an accrued invoice, timesheet entry or rental keeps its key once the
        -- ledger posts it (the posting names it in source_ref), so the alert is not raised a second time; a
        -- ledger line that pays no such record is `gl:<txn_id>`
        c.project_code || '/' || c.account_code || '/' || c.record as scope_key,
        c.project_code, li.department_code, c.account_code, c.period,
        cast(li.budget as double) as budget, cast(c.amount_base as double) as actual,
        cast(null as double) as elapsed_pct, cast(null as double) as projected,
        'transaction_pct_of_month_budget' as metric_name,
        cast(c.amount_base as double) * 100 / cast(li.budget as double) as metric_value,
        cast(t.spike_pct as double) as threshold_value
    from (
        -- one transaction: a record's amounts of the month together (a rental accrues day by day; a partial
        -- posting and the part still accrued are one invoice)
        select
            project_code, account_code, period,
            case
                when source_ref is not null then source_ref
                when source = 'gl' then 'gl:' || source_id
                else source_id
            end as record,
            sum(amount_base) as amount_base
        from {{ ref('fct_actual_costs') }}
        where period = {{ as_of_period() }} and account_type = 'expense'
        group by 1, 2, 3, 4
    ) as c
    inner join {{ ref('mart_line_item_variance') }} as li
        on li.project_code = c.project_code and li.account_code = c.account_code and li.period = c.period
    cross join thr as t
    where li.budget > 0 and c.amount_base * 100 > li.budget * t.spike_pct
),
material as (
    -- SPEC §7 material_variance: a line item crosses its materiality threshold unfavourably (needs_attention):
    -- an expense line over its budget, a revenue line under it
    select
        'material_variance' as alert_type, 'month' as scope, 'line_item' as level,
        project_code || '/' || account_code as scope_key, project_code, department_code, account_code, period,
        cast(budget as double) as budget, cast(actual as double) as actual,
        cast(null as double) as elapsed_pct, cast(null as double) as projected,
        {{ material_metric('variance_pct', 'actual - budget', 'mt') }}
    from {{ ref('mart_line_item_variance') }}
    cross join (select * from {{ ref('materiality_thresholds') }} where level = 'line_item') as mt
    where period = {{ as_of_period() }} and needs_attention
    union all
    select
        'material_variance', 'fiscal_year', 'line_item', project_code || '/' || account_code, project_code,
        department_code, account_code, fiscal_year_start, cast(ytd_budget as double), cast(ytd_actual as double),
        null, null, {{ material_metric('ytd_variance_pct', 'ytd_actual - ytd_budget', 'mt', prefix='ytd_') }}
    -- each line's latest month of the fiscal year (a line quiet this month holds its year to date there), as the
    -- fiscal-year rules above read theirs
    from ({{ latest_of_fiscal_year(ref('mart_line_item_variance'), 'r.project_code, r.account_code') }}) as year_li
    cross join (select * from {{ ref('materiality_thresholds') }} where level = 'line_item') as mt
    where ytd_needs_attention
    union all
    -- the cost report's lines (expense accounts) over their final budget
    select
        'material_variance', 'project_lifetime', 'line_item', cr.project_code || '/' || cr.account_code,
        cr.project_code, cr.department_code, cr.account_code, cast(null as date), cast(cr.final_budget as double),
        cast(cr.actual as double), null, null,
        {{ material_metric(safe_divide('(cr.actual - cr.final_budget) * 100', 'abs(cr.final_budget)'),
            'cr.actual - cr.final_budget', 'mt') }}
    from {{ ref('mart_line_item_cost_report') }} as cr
    cross join (select * from {{ ref('materiality_thresholds') }} where level = 'line_item') as mt
    where cr.actual > cr.final_budget and {{ is_material('cr.final_budget', 'cr.actual', 'mt') }}
),
alerts as (
    select
        alert_type, scope, level, scope_key, project_code, department_code, account_code, period,
        budget, actual, elapsed_pct, projected, metric_name, metric_value, threshold_value
    from rules
    union all
    select
        alert_type, scope, level, scope_key, project_code, department_code, account_code, period,
        budget, actual, elapsed_pct, projected, metric_name, metric_value, threshold_value
    from spikes
    union all
    select
        alert_type, scope, level, scope_key, project_code, department_code, account_code, period,
        budget, actual, elapsed_pct, projected, metric_name, metric_value, threshold_value
    from material
)
select
    -- the alert's identity across refreshes: type, level, scope, scope key and period
    a.alert_type || '|' || a.level || '|' || a.scope || '|' || a.scope_key || '|'
        || coalesce(cast(a.period as string), 'lifetime') as alert_key,
    cast(a.alert_type as string) as alert_type,
    cast(a.level as string) as level,
    cast(a.scope as string) as scope,
    cast(a.scope_key as string) as scope_key,
    cast(a.project_code as string) as project_code,
    cast(a.department_code as string) as department_code,
    cast(a.account_code as string) as account_code,
    a.period,
    cast(a.budget as decimal(38, 2)) as budget,
    cast(a.actual as decimal(38, 2)) as actual,
    a.elapsed_pct,
    a.projected,
    cast(a.metric_name as string) as metric_name,
    a.metric_value,
    a.threshold_value,
    cast(s.severity as string) as severity,
    -- a line item has no owner of its own in the landing files yet: its department's owner stands in
    cast(case a.level when 'line_item' then 'line_owner' when 'studio' then 'finance' else 'department_owner' end
        as string) as notify_role,
    cast(case when a.level <> 'studio' then d.owner_email end as string) as notify_email,
    cast(
        a.alert_type || ': ' || a.level || ' ' || a.scope_key || ' (' || a.scope
        || coalesce(' ' || cast(a.period as string), '') || '): actual ' || {{ rounded_text('a.actual', 2) }}
        || ' against budget ' || {{ rounded_text('a.budget', 2) }}
        || coalesce(', ' || a.metric_name || ' ' || {{ rounded_text('a.metric_value', 1) }}, '')
        || coalesce(' (threshold ' || {{ rounded_text('a.threshold_value', 1) }} || ')', '')
        as string
    ) as message,
    {{ as_of_date() }} as as_of
from alerts as a
inner join {{ ref('alert_thresholds') }} as s on s.alert_type = a.alert_type
left join {{ ref('stg_departments') }} as d on d.department_code = a.department_code
