{#- One row per lake stream: events (distinct and delivered), duplicate deliveries, late
    arrivals (received more than a day after they occurred), and the latest event and receipt.
    A stream with no files yet shows zero events. -#}
with

{% set streams = ['ticket', 'survey', 'billing', 'chat', 'kb', 'onboarding', 'agent', 'customer'] %}
{% for stream in streams %}
    {{ stream }}_events as (

        select
            '{{ stream }}' as stream,
            count(*) as event_count,
            coalesce(sum(delivery_count), 0) as delivery_count,
            sum(
                case
                    when {{ elapsed_minutes('occurred_at', 'received_at') }} > 24 * 60 then 1
                    else 0
                end
            ) as late_event_count,
            max({{ elapsed_minutes('occurred_at', 'received_at') }}) as max_lateness_minutes,
            max(occurred_at) as last_occurred_at,
            max(received_at) as last_received_at
        from {{ ref('stg_lake__' ~ stream ~ '_events') }}

    ),
{% endfor %}

unioned as (
    {% for stream in streams %}
        select * from {{ stream }}_events
        {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select
        stream,
        cast(event_count as bigint) as event_count,
        cast(delivery_count as bigint) as delivery_count,
        cast(delivery_count - event_count as bigint) as duplicate_delivery_count,
        cast(coalesce(late_event_count, 0) as bigint) as late_event_count,
        max_lateness_minutes,
        last_occurred_at,
        last_received_at
    from unioned

)

select * from final
