{#- Entity-keyed incremental builds, for tables whose watermark is not a receipt column.

    `lookback_start(column)`: the instant an incremental run re-reads events from: `this`
    table's latest `column` less the look-back (var incremental_lookback_hours). An empty
    table gives 1900-01-01, so its first incremental run reads every event instead of none.

    A table without a receipt column (its columns are a contract that dashboards read) may
    use the latest occurred_at it holds: an event is received after it occurs, so that is
    never later than the latest receipt the table has seen, and a lower watermark only
    re-reads more. -#}
{% macro lookback_start(column) -%}
    (
        select
            coalesce(
                {{ dbt.dateadd('hour', -var('incremental_lookback_hours'), 'max(' ~ column ~ ')') }},
                cast('1900-01-01' as timestamp)
            )
        from {{ this }}
    )
{%- endmacro %}

{#- The distinct `key`s of `events` (a staging relation) received since this table's
    watermark (`lookback_start(watermark_column)`). -#}
{% macro keys_received_after(key, events, watermark_column) -%}
    select distinct {{ key }}
    from {{ events }}
    where received_at > {{ lookback_start(watermark_column) }}
{%- endmacro %}
