{#- The envelope every lake stream shares (docs/events.md), typed and renamed for staging:
    timestamps to UTC, `source` to source_system (the event's system, not a dbt source). -#}
{% macro lake_envelope_columns() -%}
    cast(event_id as varchar) as event_id,
    cast(event_type as varchar) as event_type,
    cast(schema_version as integer) as schema_version,
    {{ utc_timestamp('occurred_at') }} as occurred_at,
    {{ utc_timestamp('received_at') }} as received_at,
    cast(event_date as date) as event_date,
    cast(source as varchar) as source_system
{%- endmacro %}
