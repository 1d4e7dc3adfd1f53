{#- Time-zone conversions between naive UTC timestamps (the marts' convention) and naive local
    wall-clock timestamps in an IANA zone given by a column or a quoted literal. Daylight saving
    follows the zone's rules. Engine-specific, so they live here. -#}
{% macro utc_to_local(utc_column, time_zone) -%}
    {{ return(adapter.dispatch('utc_to_local', 'servops')(utc_column, time_zone)) }}
{%- endmacro %}

{% macro default__utc_to_local(utc_column, time_zone) -%}
    timezone({{ time_zone }}, timezone('UTC', {{ utc_column }}))
{%- endmacro %}

{% macro spark__utc_to_local(utc_column, time_zone) -%}
    from_utc_timestamp({{ utc_column }}, {{ time_zone }})
{%- endmacro %}

{% macro local_to_utc(local_column, time_zone) -%}
    {{ return(adapter.dispatch('local_to_utc', 'servops')(local_column, time_zone)) }}
{%- endmacro %}

{% macro default__local_to_utc(local_column, time_zone) -%}
    timezone('UTC', timezone({{ time_zone }}, {{ local_column }}))
{%- endmacro %}

{% macro spark__local_to_utc(local_column, time_zone) -%}
    to_utc_timestamp({{ local_column }}, {{ time_zone }})
{%- endmacro %}
