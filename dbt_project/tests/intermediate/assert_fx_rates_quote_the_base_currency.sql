-- Rates are quoted to the base currency of studio.toml: its own rate is 1 wherever it appears (SPEC §4).
-- The gate rejects a file that breaks this; this test stops a build over loads accepted under another base
-- (studio.toml's base_currency changed after rates were loaded): nothing converts silently at wrong rates.
select currency, period, rate_to_base
from {{ ref('stg_fx_rates') }}
where currency = '{{ var("base_currency") }}' and rate_to_base <> 1
