{# Staging keeps one record per key across loads (SPEC §5).
   keep='latest': reference data, the latest load's record of a key wins;
   keep='first': ledgers, a key's first load wins (a re-send with the same content is a no-op). #}
{% macro deduplicated(source_name, key, keep='latest') -%}
    {%- set direction = 'desc' if keep == 'latest' else 'asc' -%}
    select * from (
        select
            loaded.*,
            row_number() over (
                partition by {{ key | join(', ') }}
                order by _load_id {{ direction }}, _row_number {{ direction }}
            ) as _key_rank
        from {{ source('lake', source_name) }} as loaded
    ) as ranked
    where _key_rank = 1
{%- endmacro %}
