-- How closed projects finished against their original budget, by project type × cost category (SPEC §6): what
-- to change on the next quote. A closed project's estimated final cost is its actual.
with project_categories as (
    select
        l.project_code,
        p.project_type,
        l.category,
        sum(l.original_budget) as original_budget,
        sum(l.actual) as final_cost
    from {{ ref('int_line_item_lifetime') }} as l
    inner join {{ ref('stg_projects') }} as p on l.project_code = p.project_code
    where p.status = 'closed'
    group by l.project_code, p.project_type, l.category
),
measured as (
    select
        project_categories.*,
        -- SPEC §6 variance_pct, of the final cost against the original budget
        {{ safe_divide('(final_cost - original_budget) * 100', 'abs(original_budget)') }} as variance_pct
    from project_categories
),
summarised as (
    select
        project_type,
        category,
        count(variance_pct) as project_count,
        count(*) - count(variance_pct) as unbudgeted_project_count,
        sum(original_budget) as original_budget,
        sum(final_cost) as final_cost,
        avg(variance_pct) as mean_variance_pct,
        {{ median('variance_pct') }} as median_variance_pct,
        min(variance_pct) as min_variance_pct,
        max(variance_pct) as max_variance_pct,
        stddev_samp(variance_pct) as stddev_variance_pct
    from measured
    group by project_type, category
)
select
    summarised.*,
    case when project_count = 0 then null
         else project_type || ' ' || category || ' lines ran '
            || cast(cast(round(abs(mean_variance_pct), 1) as decimal(38, 1)) as string) || '% '
            || case when mean_variance_pct >= 0 then 'over' else 'under' end
            || ' on average across ' || cast(project_count as string)
            || case when project_count = 1 then ' project' else ' projects' end
            || ': quote ' || category || ' '
            || case when mean_variance_pct >= 0 then '+' else '-' end
            || cast(cast(round(abs(mean_variance_pct), 1) as decimal(38, 1)) as string) || '%'
    end as suggested_adjustment
from summarised
