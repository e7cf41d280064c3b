-- Phasing neither loses nor invents money: per budget_version × project × account × currency the
-- monthly phased budget adds up to the landed budget lines to the cent (SPEC §9). A line whose
-- project has no dates, or a version/line missing on either side, shows up here.
with landed as (
    select budget_version, project_code, account_code, currency, sum(amount) as amount
    from {{ ref('stg_budgets') }}
    group by budget_version, project_code, account_code, currency
),
phased as (
    select budget_version, project_code, account_code, currency, sum(amount) as amount
    from {{ ref('int_budget_lines_phased') }}
    group by budget_version, project_code, account_code, currency
)
select
    coalesce(l.budget_version, p.budget_version) as budget_version,
    coalesce(l.project_code, p.project_code) as project_code,
    coalesce(l.account_code, p.account_code) as account_code,
    coalesce(l.currency, p.currency) as currency,
    l.amount as landed_amount,
    p.amount as phased_amount
from landed as l
full outer join phased as p
    on l.budget_version = p.budget_version
    and l.project_code = p.project_code
    and l.account_code = p.account_code
    and l.currency = p.currency
where l.amount is null
    or p.amount is null
    or abs(l.amount - p.amount) >= 0.01
