-- Rate of each currency per month (SPEC §4): a month uses its own rate, or the latest earlier one
-- when finance has not yet sent it. The base currency is always 1.
with rates as (
    select currency, period as valid_from, rate_to_base
    from {{ ref('stg_fx_rates') }}
    where currency <> '{{ var("base_currency") }}'
    union all
    select '{{ var("base_currency") }}', cast('1900-01-01' as date), cast(1 as decimal(18, 8))
)
select
    currency,
    valid_from,
    lead(valid_from) over (partition by currency order by valid_from) as valid_to,
    rate_to_base
from rates
