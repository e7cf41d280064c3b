-- Every material line-item month (SPEC §6 is_material: favourable or unfavourable, the grain SPEC §6 gives this mart)
-- with its owner's commentary, provided or missing, and a drafted explanation from its top contributors that the
-- owner can accept or rewrite.
with series as (
    select
        period, project_code, department_code, account_code, category, account_type, budget, actual, variance,
        variance_pct, is_material, needs_attention, direction,
        lag(direction, 1) over line_months as direction_before_1,
        lag(direction, 2) over line_months as direction_before_2,
        lag(period, 1) over line_months as period_before_1,
        lag(period, 2) over line_months as period_before_2,
        lead(direction, 1) over line_months as direction_after_1,
        lead(direction, 2) over line_months as direction_after_2,
        lead(period, 1) over line_months as period_after_1,
        lead(period, 2) over line_months as period_after_2,
        -- what the later months of the same fiscal year (to as-of) gave back or added
        sum(favorable_variance) over (
            partition by project_code, account_code, fiscal_year_start order by period
            rows between 1 following and unbounded following
        ) as later_favorable_variance,
        favorable_variance
    from {{ ref('mart_line_item_variance') }}
    window line_months as (partition by project_code, account_code order by period)
),
variances as (
    select
        *,
        -- SPEC-silent rule (README): the same direction three calendar months running, this month among them
        (direction_before_1 = direction and direction_before_2 = direction
            and period_before_1 = {{ dbt.dateadd('month', -1, 'period') }}
            and period_before_2 = {{ dbt.dateadd('month', -2, 'period') }})
        or (direction_before_1 = direction and direction_after_1 = direction
            and period_before_1 = {{ dbt.dateadd('month', -1, 'period') }}
            and period_after_1 = {{ dbt.dateadd('month', 1, 'period') }})
        or (direction_after_1 = direction and direction_after_2 = direction
            and period_after_1 = {{ dbt.dateadd('month', 1, 'period') }}
            and period_after_2 = {{ dbt.dateadd('month', 2, 'period') }}) as three_months_running,
        -- later months of the fiscal year gave back at least half of it (an overrun: underspent later; an
        -- underspend: overrun later)
        -sign(favorable_variance) * coalesce(later_favorable_variance, 0) >= abs(favorable_variance) / 2
            as reversed_in_fiscal_year
    from series
    where is_material
),
latest_commentary as (
    select *, row_number() over (
        partition by period, project_code, account_code order by written_at desc
    ) as newest
    from {{ ref('stg_variance_commentary') }}
)
select
    v.period,
    v.project_code,
    v.department_code,
    v.account_code,
    v.category,
    v.account_type,
    v.budget,
    v.actual,
    v.variance,
    v.variance_pct,
    v.direction,
    v.needs_attention,
    c.written_at is not null as has_commentary,
    cast(case when c.written_at is not null then 'provided' else 'missing' end as string) as commentary_status,
    -- the clock starts when the month closes (the first day of the next month)
    cast(case
        when c.written_at is null and {{ dbt.dateadd('month', 1, 'v.period') }} <= {{ as_of_date() }}
            then {{ dbt.datediff(dbt.dateadd('month', 1, 'v.period'), as_of_date(), 'day') }}
    end as integer) as days_missing,
    c.root_cause,
    c.persistence,
    c.explanation,
    c.corrective_action,
    c.author,
    c.written_at,
    l.largest_transactions,
    l.top_vendor,
    cast(l.top_vendor_amount as decimal(38, 2)) as top_vendor_amount,
    l.top_person_id,
    cast(l.top_person_amount as decimal(38, 2)) as top_person_amount,
    -- the owner's commentary decides; else three unfavourable months running = structural; else a reversal
    -- within the fiscal year = timing
    cast(case
        when c.persistence = 'structural' then 'structural'
        when c.persistence in ('one_time', 'temporary') then 'timing'
        when v.three_months_running then 'structural'
        when v.reversed_in_fiscal_year then 'timing'
        else 'undetermined'
    end as string) as variance_class,
    cast(case
        when c.persistence in ('structural', 'one_time', 'temporary') then 'commentary'
        when v.three_months_running then 'three_months_running'
        when v.reversed_in_fiscal_year then 'reversed_in_fiscal_year'
        else 'none'
    end as string) as variance_class_basis,
    lv.hours_variance,
    lv.rate_variance,
    lv.overtime_premium,
    cast(
        v.account_code || ' on ' || v.project_code || ' in ' || substr(cast(v.period as string), 1, 7) || ' ran '
        || {{ rounded_text('abs(v.variance)', 2) }} || ' '
        -- unfavourable: an expense over its budget, revenue under it; favourable the other way round
        || case when (v.account_type = 'revenue') = (v.direction = 'U') then 'under' else 'over' end
        || ' its budget of ' || {{ rounded_text('v.budget', 2) }} || '.'
        || coalesce(' The largest items were ' || l.largest_transactions || '.', '')
        || coalesce(' ' || l.top_vendor || ' accounts for ' || {{ rounded_text('l.top_vendor_amount', 2) }} || '.', '')
        || coalesce(' ' || l.top_person_id || ' logged ' || {{ rounded_text('l.top_person_amount', 2) }} || '.', '')
        || case when lv.labour_variance is not null and lv.labour_variance <> 0 then
            -- a line budgeted without hours has no hours or rate part
            ' Labour: ' || coalesce('hours ' || {{ rounded_text('lv.hours_variance', 2) }} || ', ', '')
            || coalesce('rate ' || {{ rounded_text('lv.rate_variance', 2) }} || ', ', '')
            || 'overtime premium ' || {{ rounded_text('coalesce(lv.overtime_premium, 0)', 2) }} || '.'
            else '' end
        as string
    ) as drafted_explanation
from variances as v
left join latest_commentary as c
    on c.newest = 1 and c.period = v.period and c.project_code = v.project_code and c.account_code = v.account_code
-- the line-month's largest records, top vendor and top person (int_line_month_contributors)
left join {{ ref('int_line_month_contributors') }} as l
    on l.period = v.period and l.project_code = v.project_code and l.account_code = v.account_code
left join {{ ref('mart_labor_variance') }} as lv
    on lv.period = v.period and lv.project_code = v.project_code and lv.account_code = v.account_code
