-- Budget lines by month in their own currency. A line with a period stays in that month; a line
-- without one is phased over its project's start..end dates by calendar days (SPEC §4), in cents,
-- with the rounding remainder in the last month so that the months add up to the line exactly. The line's unit and
-- rate come with each month: the month's quantity is its amount / rate.
with lines as (
    select b.*, p.start_date, p.end_date,
        {{ dbt.datediff('p.start_date', 'p.end_date', 'day') }} + 1 as project_days
    from {{ ref('stg_budgets') }} as b
    left join {{ ref('stg_projects') }} as p on b.project_code = p.project_code
),
prorated as (
    select
        l.load_id, l.source_row_number, l.budget_version, l.project_code, l.account_code, l.currency, l.amount,
        l.unit, l.rate, m.period,
        -- days of the project inside this month
        {{ dbt.datediff(
            'case when l.start_date > m.period then l.start_date else m.period end',
            'case when l.end_date < ' ~ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'm.period'))
            ~ ' then l.end_date else ' ~ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'm.period')) ~ ' end',
            'day') }} + 1 as days_in_scope,
        l.project_days
    from lines as l
    inner join {{ ref('int_months') }} as m
        on m.period between {{ month_start('l.start_date') }} and {{ month_start('l.end_date') }}
    where l.period is null
),
allocated as (
    select
        prorated.*,
        -- round half away from zero in whole cents with exact integer arithmetic (no floating-point rounding), so a
        -- credit is phased as the mirror of the same debit: sign × floor((2 × |cents| × days + project days) /
        -- (2 × project days)); both sides stay far below 2^53
        cast(cast(sign(amount) * floor(
            (2 * abs(cast(round(amount * 100, 0) as bigint)) * days_in_scope + project_days) / (2.0 * project_days)
        ) as decimal(18, 0)) * 0.01 as decimal(18, 4)) as share,
        row_number() over (partition by load_id, source_row_number order by period desc) as month_from_end
    from prorated
)
select
    budget_version, project_code, account_code, period, currency,
    case when month_from_end = 1
        then amount - (sum(share) over (partition by load_id, source_row_number) - share)
        else share end as amount,
    true as is_prorated,
    unit, rate,
    load_id, source_row_number
from allocated
union all
select
    budget_version, project_code, account_code, period, currency, amount, false as is_prorated,
    unit, rate,
    load_id, source_row_number
from lines
where period is not null
