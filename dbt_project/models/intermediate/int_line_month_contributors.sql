-- Who made up each line-item month's actual (mart_variance_commentary's drafted explanation): its three largest
-- cost records, its top vendor and its top person, from the fact's records.
-- Incremental where the engine deletes rows (DuckDB): a refresh recomputes only the line-months the refresh
-- changed in the fact, instead of ranking and grouping every record again. Those
-- are the line-months of the records the fact gained (a posted line of a newer load than any it had here, or
-- dated after every posted line it had: the fact's own rule, from `posted_through_*` below) and of its accrued
-- records, old and new (the fact replaces them whole each refresh: a posting releases an accrual, which leaves
-- its line-month). Each of those line-months gets a row, records or none, which replaces its row here; a row of
-- none is then deleted (a line-month with records always has its largest ones), so the table holds what a build
-- from scratch holds. At 10M records, ranking every record took 1.56 s of dbt (in mart_variance_commentary,
-- before this model); a day's refresh of this model takes about 0.8 s. Elsewhere (Spark) it is rebuilt whole.
{{ config(
    materialized=materialization_with_deletes(),
    incremental_strategy='delete+insert',
    unique_key=['period', 'project_code', 'account_code'],
    on_schema_change='fail',
    post_hook="{% if is_incremental() %}delete from {{ this }} where largest_transactions is null{% endif %}"
) }}

with
{% if is_incremental() %}
changed as (
    select distinct c.period, c.project_code, c.account_code
    -- the fact's accrued records, and its posted lines above those this table has seen, written into the SQL
    -- as constants (macro rows_not_seen)
    from {{ rows_not_seen(ref('fct_actual_costs'), this,
        [('load_id', 'posted_through_load_id'), ('cost_date', 'posted_through_date')],
        also=["status = 'accrued'"]) }} as c
    union
    select period, project_code, account_code
    from {{ this }}
    where accrued_records > 0
),
{% endif %}
-- the fact's records of those line-months (every line-month when built whole), scanned again by each use below
-- rather than copied once (macro)
costs as {{ not_materialized() }} (
    select
        c.period, c.project_code, c.account_code, c.amount_base, c.cost_id, c.status,
        coalesce(c.vendor, c.person_id, c.description, c.source) as contributor,
        c.vendor, c.person_id
    from {{ ref('fct_actual_costs') }} as c
    {% if is_incremental() %}
    inner join changed as ch
        on ch.period = c.period and ch.project_code = c.project_code and ch.account_code = c.account_code
    {% endif %}
),
line_months as (
    {% if is_incremental() %}
    select ch.period, ch.project_code, ch.account_code,
        sum(case when c.status = 'accrued' then 1 else 0 end) as accrued_records
    from changed as ch
    left join costs as c
        on c.period = ch.period and c.project_code = ch.project_code and c.account_code = ch.account_code
    group by ch.period, ch.project_code, ch.account_code
    {% else %}
    select period, project_code, account_code, sum(case when status = 'accrued' then 1 else 0 end) as accrued_records
    from costs
    group by period, project_code, account_code
    {% endif %}
),
-- the three largest records of each line-month: ranked among the records at or above the line-month's third
-- largest amount only (the same ranks as among all of them, without sorting millions of records)
largest_floor as (
    select period, project_code, account_code, {{ top_n_floor('amount_base', 3) }} as floor_amount
    from costs
    group by period, project_code, account_code
),
ranked as (
    select
        c.*,
        row_number() over (
            partition by c.period, c.project_code, c.account_code order by c.amount_base desc, c.cost_id
        ) as size_rank
    from costs as c
    inner join largest_floor as f
        on f.period = c.period and f.project_code = c.project_code and f.account_code = c.account_code
    where c.amount_base >= f.floor_amount
),
largest as (
    select
        period, project_code, account_code,
        {{ dbt.listagg("contributor || ' ' || " ~ rounded_text('amount_base', 2), "', '", "order by size_rank") }}
            as largest_transactions
    from ranked
    where size_rank <= 3
    group by period, project_code, account_code
),
-- each vendor's and each person's total in the line-month, ranked among the vendors, and among the people
by_party as (
    select period, project_code, account_code, kind, party, sum(amount_base) as amount,
        row_number() over (
            partition by period, project_code, account_code, kind order by sum(amount_base) desc, party
        ) as party_rank
    from (
        select period, project_code, account_code, 'vendor' as kind, vendor as party, amount_base
        from costs
        where vendor is not null
        union all
        select period, project_code, account_code, 'person', person_id, amount_base
        from costs
        where person_id is not null
    ) as parties
    group by period, project_code, account_code, kind, party
),
-- the fact's posted lines as this build found them: what the next refresh counts as new after
posted_through as (
    select max(load_id) as load_id, max(cost_date) as cost_date
    from {{ ref('fct_actual_costs') }}
    where status = 'posted'
)
select
    lm.period,
    lm.project_code,
    lm.account_code,
    l.largest_transactions,
    bv.party as top_vendor,
    bv.amount as top_vendor_amount,
    bp.party as top_person_id,
    bp.amount as top_person_amount,
    cast(coalesce(lm.accrued_records, 0) as integer) as accrued_records,
    pt.load_id as posted_through_load_id,
    pt.cost_date as posted_through_date
from line_months as lm
cross join posted_through as pt
left join largest as l
    on l.period = lm.period and l.project_code = lm.project_code and l.account_code = lm.account_code
left join by_party as bv
    on bv.kind = 'vendor' and bv.party_rank = 1 and bv.period = lm.period and bv.project_code = lm.project_code
    and bv.account_code = lm.account_code
left join by_party as bp
    on bp.kind = 'person' and bp.party_rank = 1 and bp.period = lm.period and bp.project_code = lm.project_code
    and bp.account_code = lm.account_code
