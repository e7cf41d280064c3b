-- The studio's departments, who owns each and how many projects it holds (SPEC §4 departments): the owner is
-- whom the department's own report is e-mailed to, and each department's published files are cut by its code (SPEC §8).
select
    cast(d.department_code as string) as department_code,
    cast(d.department_name as string) as department_name,
    cast(d.owner_email as string) as owner_email,
    cast(count(p.project_code) as integer) as projects
from {{ ref('stg_departments') }} as d
left join {{ ref('stg_projects') }} as p on p.department_code = d.department_code
group by d.department_code, d.department_name, d.owner_email
