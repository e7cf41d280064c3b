-- Labour cost of every timesheet entry worked on or before as-of (SPEC §4), in the person's currency:
-- (regular + overtime × multiplier) × rate × (1 + fringe % / 100), the rate from the entry or else the person's.
-- Its parts add up to it exactly: straight time (every hour at the rate), the overtime premium (the hours above
-- straight time) and the fringe on both.
with entries as (
    select
        t.*,
        p.person_name,
        p.worker_type,
        p.currency,
        coalesce(t.hourly_rate, p.hourly_rate) as rate
    from {{ ref('stg_timesheets') }} as t
    left join {{ ref('stg_people') }} as p on t.person_id = p.person_id
    where t.work_date <= {{ as_of_date() }}
),
parts as (
    select
        entries.*,
        cast((regular_hours + overtime_hours) * rate as decimal(38, 10)) as straight_cost,
        cast(overtime_hours * (overtime_multiplier - 1) * rate as decimal(38, 10)) as overtime_premium,
        cast((regular_hours + overtime_hours * overtime_multiplier) * rate * fringe_pct / 100 as decimal(38, 10))
            as fringe_cost
    from entries
)
select
    entry_id,
    work_date,
    period,
    person_id,
    person_name,
    worker_type,
    project_code,
    account_code,
    task_id,
    regular_hours,
    overtime_hours,
    regular_hours + overtime_hours as hours,
    rate as hourly_rate,
    overtime_multiplier,
    fringe_pct,
    currency,
    straight_cost,
    overtime_premium,
    fringe_cost,
    straight_cost + overtime_premium + fringe_cost as labour_cost,
    load_id
from parts
