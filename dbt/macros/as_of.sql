{#- Time travel: with the var `as_of` (a UTC timestamp, e.g. --vars '{as_of: "2025-03-15"}')
    staging keeps only the events that had occurred by then, so every fold and mart is rebuilt
    as the company stood at that instant (a ticket's status, a subscription's MRR). Without
    the var the filter is a no-op. Build such a warehouse into its own database with
    --full-refresh. -#}
{% macro as_of_filter(occurred_at_column) -%}
    {%- set as_of = var('as_of', none) -%}
    {%- if as_of -%}
        {{ utc_timestamp(occurred_at_column) }} <= cast('{{ as_of }}' as timestamp)
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
