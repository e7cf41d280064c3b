{# Production helpers (SPEC §6 production marts). #}

{# The status intervals of task events: each status lasts until the task's next event; the last one until the
   end of the as-of date. Events after the as-of date are not yet history. #}
{% macro task_status_intervals(events) -%}
    with events as (
        select task_id, status, changed_at
        from {{ events }}
        where changed_at < {{ as_of_end() }}
    ),
    ordered as (
        select
            task_id,
            status,
            changed_at as started_at,
            lead(changed_at) over (partition by task_id order by changed_at) as next_changed_at,
            lag(status) over (partition by task_id order by changed_at) as previous_status,
            row_number() over (partition by task_id order by changed_at) as event_number
        from events
    )
    select
        task_id,
        event_number,
        status,
        previous_status,
        started_at,
        coalesce(next_changed_at, {{ as_of_end() }}) as ended_at,
        next_changed_at is null as is_current,
        {{ days_between('started_at', 'coalesce(next_changed_at, ' ~ as_of_end() ~ ')') }} as duration_days
    from ordered
{%- endmacro %}

{# `with recursive` where the engine needs the keyword #}
{% macro with_recursive() -%}
    {{ return(adapter.dispatch('with_recursive')()) }}
{%- endmacro %}

{% macro default__with_recursive() -%}
    with recursive
{%- endmacro %}
