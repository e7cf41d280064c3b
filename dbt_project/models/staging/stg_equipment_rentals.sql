select
    rental_id, project_code, account_code, item, vendor, start_date, end_date, day_rate,
    coalesce(damage_charge, 0) as damage_charge, currency, _load_id as load_id
from ({{ deduplicated('equipment_rentals', ['rental_id']) }}) as r
