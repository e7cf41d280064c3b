-- Every ledger line posted on or before as-of is in fct_actual_costs once, and nothing else is:
-- per currency, the count and the own-currency amount of the `gl` cost records equal those of
-- stg_gl_actuals up to as-of, to the cent (SPEC §9).
with ledger as (
    select currency, count(*) as lines, sum(amount) as amount
    from {{ ref('stg_gl_actuals') }}
    where posted_date <= {{ as_of_date() }}
    group by currency
),
costs as (
    select currency, count(*) as lines, sum(amount) as amount
    from {{ ref('fct_actual_costs') }}
    where source = 'gl'
    group by currency
)
select
    coalesce(l.currency, c.currency) as currency,
    l.lines as ledger_lines,
    c.lines as cost_records,
    l.amount as ledger_amount,
    c.amount as cost_amount
from ledger as l
full outer join costs as c on l.currency = c.currency
where l.currency is null
    or c.currency is null
    or l.lines <> c.lines
    or abs(l.amount - c.amount) >= 0.01
