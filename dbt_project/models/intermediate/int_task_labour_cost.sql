-- Labour cost of every timesheet entry up to the as-of date (SPEC §4): (regular + overtime × multiplier)
-- × rate × (1 + fringe/100), the rate from the entry else the person's, in the person's currency, converted
-- to base at the work month's rate. Rework: hours a task logs on or after the day of its first retake.
with entries as (
    select
        t.entry_id, t.work_date, t.period, t.person_id, t.project_code, t.account_code, t.task_id,
        t.regular_hours, t.overtime_hours, t.overtime_multiplier, t.fringe_pct,
        coalesce(t.hourly_rate, p.hourly_rate) as hourly_rate,
        p.currency
    from {{ ref('stg_timesheets') }} as t
    left join {{ ref('stg_people') }} as p on p.person_id = t.person_id
    where t.work_date <= {{ as_of_date() }}
),
first_retakes as (
    select task_id, cast(min(changed_at) as date) as first_retake_date
    from {{ ref('stg_task_events') }}
    where status = 'retake' and changed_at < {{ as_of_end() }}
    group by task_id
),
costed as (
    select
        e.*,
        -- SPEC §4 labour cost, in the person's currency; × 0.01 rather than / 100 keeps it an exact decimal
        cast(
            cast((e.regular_hours + e.overtime_hours * e.overtime_multiplier) * e.hourly_rate as decimal(38, 8))
            * (100 + e.fringe_pct) as decimal(38, 8)
        ) * cast(0.01 as decimal(3, 2)) as labour_cost_local,
        fx.rate_to_base,
        r.first_retake_date
    from entries as e
    left join {{ ref('int_fx_rates') }} as fx
        on fx.currency = e.currency
        and e.period >= fx.valid_from
        and (fx.valid_to is null or e.period < fx.valid_to)
    left join first_retakes as r on r.task_id = e.task_id
)
select
    entry_id,
    work_date,
    period,
    person_id,
    project_code,
    account_code,
    task_id,
    cast(regular_hours + overtime_hours as decimal(18, 4)) as hours,
    hourly_rate,
    currency,
    rate_to_base,
    {{ to_base_currency('labour_cost_local', 'rate_to_base') }} as labour_cost,
    coalesce(work_date >= first_retake_date, false) as is_rework
from costed
