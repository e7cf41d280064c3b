-- Every month from 1990 to 2099: the calendar that phasing and dense roll-ups join to.
{{ month_spine("cast('1990-01-01' as date)", "cast('2099-12-01' as date)") }}
