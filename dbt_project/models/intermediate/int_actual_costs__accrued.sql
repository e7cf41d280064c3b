-- Accrued cost (SPEC §4): what timesheets, rentals and invoices incurred up to as-of that the ledger has not
-- posted yet. A GL line whose source_ref names a record releases what it posts, no more: a partial posting
-- leaves the rest accrued, and a record posted in full is left to its GL line, so nothing is counted twice.
-- A posting in another currency than the record releases its amount converted at the rates of the month the
-- cost was incurred. A rental's postings release its earliest months first. Less than half a cent left is the
-- ledger rounding its posting to the cent: nothing is accrued for it.
with incurred as (
    select * from {{ ref('int_operational_costs') }}
),
records as (
    -- one rate pair per source record: its first month's
    select source, source_id, min(period) as first_period, max(currency) as currency,
        case when sum(amount) < 0 then -1 else 1 end as direction
    from incurred
    group by source, source_id
),
postings as (
    select g.source_ref, g.currency, g.amount
    from {{ ref('stg_gl_actuals') }} as g
    where g.source_ref is not null and g.posted_date <= {{ as_of_date() }}
),
released as (
    select
        r.source,
        r.source_id,
        sum(
            case when p.currency = r.currency then p.amount
                 else cast(p.amount as decimal(38, 10)) * gl_fx.rate_to_base / record_fx.rate_to_base end
        ) as released_amount
    from records as r
    inner join postings as p on p.source_ref = r.source_id
    left join {{ ref('int_fx_rates') }} as gl_fx on {{ rate_for_month('gl_fx', 'p.currency', 'r.first_period') }}
    left join {{ ref('int_fx_rates') }} as record_fx
        on {{ rate_for_month('record_fx', 'r.currency', 'r.first_period') }}
    group by r.source, r.source_id
),
running as (
    -- amounts turned the way the record runs (a credit note runs negative), so that a release fills them in order
    select
        i.*,
        r.direction,
        r.direction * coalesce(rel.released_amount, 0) as released_directed,
        sum(r.direction * i.amount) over (
            partition by i.source, i.source_id order by i.cost_date, i.record_id
            rows between unbounded preceding and current row
        ) as through_this,
        coalesce(rel.released_amount, 0) as released_amount
    from incurred as i
    inner join records as r on i.source = r.source and i.source_id = r.source_id
    left join released as rel on i.source = rel.source and i.source_id = rel.source_id
)
select
    source,
    source_id,
    record_id,
    cost_date,
    period,
    project_code,
    account_code,
    vendor,
    person_id,
    -- a record a posting released in part says what of it is left (a rental month's days are its whole month's)
    case
        when abs(unreleased) >= 0.005 and unreleased <> cast(amount as decimal(18, 4))
            then description || ', ' || {{ rounded_text('unreleased', 2) }} || ' of ' || {{ rounded_text('amount', 2) }}
                || ' ' || currency || ' not yet posted'
        else description
    end as description,
    amount as incurred_amount,
    -- the part of this record no posting has released yet
    case when abs(unreleased) < 0.005 then cast(0 as decimal(18, 4)) else unreleased end as amount,
    currency,
    load_id
from (
    select
        running.*,
        cast(direction * (
            greatest(through_this - released_directed, 0)
            - greatest(through_this - direction * amount - released_directed, 0)
        ) as decimal(18, 4)) as unreleased
    from running
) as accrued
