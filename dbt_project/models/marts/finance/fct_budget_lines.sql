-- Every budget version, phased monthly, in its own currency and the base currency.
with phased as (
    select
        ph.budget_version, ph.project_code, ph.account_code, ph.period, ph.currency,
        sum(ph.amount) as amount,
        max(case when ph.is_prorated then 1 else 0 end) = 1 as is_prorated,
        -- a quantity when every line of the month gives one unit and a rate: amount / rate, unrounded
        count(*) = count(case when ph.unit is not null and ph.rate > 0 then 1 end)
            and count(distinct ph.unit) = 1 as has_quantity,
        max(ph.unit) as unit,
        sum(case when ph.rate > 0 then cast(ph.amount as double) / cast(ph.rate as double) end) as quantity
    from {{ ref('int_budget_lines_phased') }} as ph
    group by ph.budget_version, ph.project_code, ph.account_code, ph.period, ph.currency
)
select
    ph.budget_version,
    v.version_status,
    v.is_original,
    v.is_current,
    ph.project_code,
    p.department_code,
    ph.account_code,
    a.category,
    a.account_type,
    ph.period,
    ph.currency,
    ph.amount,
    fx.rate_to_base as fx_rate,
    {{ to_base_currency('ph.amount', 'fx.rate_to_base') }} as amount_base,
    ph.is_prorated,
    cast(case when ph.has_quantity then ph.unit end as string) as unit,
    case when ph.has_quantity then ph.quantity end as quantity
from phased as ph
inner join {{ ref('int_budget_versions') }} as v
    on ph.project_code = v.project_code and ph.budget_version = v.budget_version
left join {{ ref('stg_projects') }} as p on ph.project_code = p.project_code
left join {{ ref('stg_accounts') }} as a on ph.account_code = a.account_code
left join {{ ref('int_fx_rates') }} as fx
    on ph.currency = fx.currency and ph.period >= fx.valid_from and (fx.valid_to is null or ph.period < fx.valid_to)
