-- Cost incurred but recorded outside the ledger (SPEC §4 "hot costs"), one row per cost record, in its own
-- currency, up to as-of: a timesheet entry the day it is worked; a rental per month of rental days up to as-of
-- (day rate × days) and its damage charge on its last day up to as-of; an invoice on its date.
with rental_months as (
    select
        r.*,
        m.period,
        case when r.start_date > m.period then r.start_date else m.period end as first_day,
        least(r.end_date, {{ as_of_date() }}, cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'm.period')) }} as date))
            as last_day
    from {{ ref('stg_equipment_rentals') }} as r
    inner join {{ ref('int_months') }} as m
        on m.period between {{ month_start('r.start_date') }}
        and {{ month_start('least(r.end_date, ' ~ as_of_date() ~ ')') }}
    where r.start_date <= {{ as_of_date() }}
)
select
    'timesheet' as source,
    entry_id as source_id,
    entry_id as record_id,
    work_date as cost_date,
    period,
    project_code,
    account_code,
    cast(null as string) as vendor,
    person_id,
    'Labour ' || coalesce(person_name, person_id) || ' ' || cast(work_date as string) as description,
    labour_cost as amount,
    currency,
    load_id
from {{ ref('int_labour_costs') }}
union all
select
    'rental',
    rental_id,
    rental_id || ':' || cast(period as {{ dbt.type_string() }}),
    last_day,
    period,
    project_code,
    account_code,
    vendor,
    cast(null as string),
    item || ': ' || cast({{ dbt.datediff('first_day', 'last_day', 'day') }} + 1 as string) || ' day(s)',
    cast(({{ dbt.datediff('first_day', 'last_day', 'day') }} + 1) * day_rate as decimal(38, 10)),
    currency,
    load_id
from rental_months
union all
select
    'rental',
    rental_id,
    rental_id || ':damage',
    least(end_date, {{ as_of_date() }}),
    {{ month_start('least(end_date, ' ~ as_of_date() ~ ')') }},
    project_code,
    account_code,
    vendor,
    cast(null as string),
    item || ': damage charge',
    cast(damage_charge as decimal(38, 10)),
    currency,
    load_id
from {{ ref('stg_equipment_rentals') }}
where damage_charge <> 0 and start_date <= {{ as_of_date() }}
union all
select
    'invoice',
    invoice_id,
    invoice_id,
    invoice_date,
    period,
    project_code,
    account_code,
    vendor,
    cast(null as string),
    'Invoice ' || invoice_id || ' (' || status || ')',
    cast(amount as decimal(38, 10)),
    currency,
    load_id
from {{ ref('stg_invoices') }}
where invoice_date <= {{ as_of_date() }}
