-- Commitments (SPEC §4): what an open purchase order issued up to as-of still commits, in its own currency:
-- its amount less what has been invoiced against it (invoices naming it) and posted against it (GL lines whose
-- source_ref names it), never below zero. A closed PO commits nothing. Invoices and postings in another
-- currency count at the rates of the PO's month.
with orders as (
    select po_id, vendor, issued_date, {{ month_start('issued_date') }} as period, project_code, account_code,
        amount, currency, status, load_id
    from {{ ref('stg_purchase_orders') }}
    where issued_date <= {{ as_of_date() }}
),
against as (
    select po_id, currency, amount, 'invoiced' as kind
    from {{ ref('stg_invoices') }}
    where po_id is not null and invoice_date <= {{ as_of_date() }}
    union all
    select source_ref, currency, amount, 'posted'
    from {{ ref('stg_gl_actuals') }}
    where source_ref is not null and posted_date <= {{ as_of_date() }}
),
consumed as (
    select
        o.po_id,
        sum(case when a.kind = 'invoiced' then
            case when a.currency = o.currency then a.amount
                 else cast(a.amount as decimal(38, 10)) * a_fx.rate_to_base / o_fx.rate_to_base end
            else 0 end) as invoiced_amount,
        sum(case when a.kind = 'posted' then
            case when a.currency = o.currency then a.amount
                 else cast(a.amount as decimal(38, 10)) * a_fx.rate_to_base / o_fx.rate_to_base end
            else 0 end) as posted_amount
    from orders as o
    inner join against as a on a.po_id = o.po_id
    left join {{ ref('int_fx_rates') }} as a_fx on {{ rate_for_month('a_fx', 'a.currency', 'o.period') }}
    left join {{ ref('int_fx_rates') }} as o_fx on {{ rate_for_month('o_fx', 'o.currency', 'o.period') }}
    group by o.po_id
)
select
    o.po_id,
    o.vendor,
    o.issued_date,
    o.period,
    o.project_code,
    o.account_code,
    o.status,
    o.amount as po_amount,
    cast(coalesce(c.invoiced_amount, 0) as decimal(18, 4)) as invoiced_amount,
    cast(coalesce(c.posted_amount, 0) as decimal(18, 4)) as posted_amount,
    cast(case when o.status = 'open'
        then greatest(o.amount - coalesce(c.invoiced_amount, 0) - coalesce(c.posted_amount, 0), 0)
        else 0 end as decimal(18, 4)) as committed_amount,
    o.currency,
    fx.rate_to_base as fx_rate,
    {{ to_base_currency(
        "case when o.status = 'open' then greatest(o.amount - coalesce(c.invoiced_amount, 0) - coalesce(c.posted_amount, 0), 0) else 0 end",
        'fx.rate_to_base') }} as committed_base,
    o.load_id
from orders as o
left join consumed as c on o.po_id = c.po_id
left join {{ ref('int_fx_rates') }} as fx on {{ rate_for_month('fx', 'o.currency', 'o.period') }}
