{#- The events of `events` (a CTE of one lake stream) with each event_id kept once: the
    first received delivery wins (ties broken by occurred_at), because the first delivery is
    the one the source acknowledged and later ones are retries (docs/events.md). Adds
    delivery_count, how often the event arrived. Honours the as_of var (time travel). -#}
{% macro first_deliveries(events) -%}
    select *
    from (
        select
            {{ events }}.*,
            row_number() over (
                partition by {{ events }}.event_id
                order by {{ events }}.received_at asc, {{ events }}.occurred_at asc
            ) as delivery_rank,
            count(*) over (partition by {{ events }}.event_id) as delivery_count
        from {{ events }}
        where {{ as_of_filter(events ~ '.occurred_at') }}
    ) as delivered
    where delivery_rank = 1
{%- endmacro %}
