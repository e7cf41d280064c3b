-- The film-style project cost report (SPEC §6, §8) as rows: per project, each cost category's lines, then the
-- category's total, then the project's total; lifetime at as-of. `studio-budget report --project` prints it.
with lines as (
    select * from {{ ref('mart_line_item_cost_report') }}
),
{%- set figures = ['original_budget', 'final_budget', 'posted_actual', 'accrued_actual', 'actual', 'committed',
                   'total_cost', 'etc', 'efc', 'over_under'] %}
rows_by_level as (
    select
        project_code, 'line' as row_type, category, account_code, account_name, etc_basis,
        {% for f in figures %}{{ f }}{% if not loop.last %}, {% endif %}{% endfor %}
    from lines
    union all
    select
        project_code, 'category', category, cast(null as string), cast(null as string), cast(null as string),
        {% for f in figures %}sum({{ f }}){% if not loop.last %}, {% endif %}{% endfor %}
    from lines
    group by project_code, category
    union all
    select
        project_code, 'project', cast(null as string), cast(null as string), cast(null as string),
        cast(null as string),
        {% for f in figures %}sum({{ f }}){% if not loop.last %}, {% endif %}{% endfor %}
    from lines
    group by project_code
)
select
    r.*,
    {{ safe_divide('r.over_under * 100', 'r.final_budget') }} as over_under_pct,
    -- print order: a category's lines, then its total; the project's total last
    case r.row_type when 'line' then 1 when 'category' then 2 else 3 end as row_order,
    {{ as_of_date() }} as as_of
from rows_by_level as r
