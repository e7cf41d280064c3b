-- The ledger grows every day and is never edited (a correction is a reversing entry): a refresh reads only the
-- loads that arrived since the last one and appends their new txn_ids (a txn_id keeps its first load, as the
-- full rebuild by `deduplicated` does). `--full-refresh` rebuilds it from every load in the lake.
{{ config(materialized='incremental', incremental_strategy='append') }}

with new_loads as {{ not_materialized() }} (
    select * from {{ source('lake', 'gl_actuals') }}
    {% if is_incremental() %}
    -- load ids sort by load time: a later load's id is greater than every id already here
    where _load_id > (select coalesce(max(load_id), '') from {{ this }})
    {% endif %}
),
resent as (
    -- the txn_ids sent more than once: a hash table of the keys. Only their rows are ranked: ranking every
    -- row sorts the whole ledger (10M rows under the 512MB limit: 17.2 s ranked, 5.6 s this way)
    select txn_id from new_loads group by txn_id having count(*) > 1
),
ranked as (
    select new_loads.*, 1 as _key_rank
    from new_loads
    where txn_id is not null and not exists (select 1 from resent where resent.txn_id = new_loads.txn_id)
    union all
    select
        new_loads.*,
        row_number() over (partition by txn_id order by _load_id, _row_number) as _key_rank
    from new_loads
    where txn_id is null or txn_id in (select txn_id from resent)  -- (the gate lets no null through)
)
select
    txn_id, posted_date, {{ month_start('posted_date') }} as period, project_code, account_code,
    vendor, description, amount, currency, source_ref, _load_id as load_id, _row_number as source_row_number
from ranked
where _key_rank = 1
{% if is_incremental() %}
    -- a txn_id already here keeps its first load; only the new loads' txn_ids are looked up (a hash table of
    -- them, not of the whole ledger: 0.04 s instead of 0.4 s over 10M rows)
    and txn_id not in (select txn_id from {{ this }} where txn_id in (select txn_id from new_loads))
{% endif %}
