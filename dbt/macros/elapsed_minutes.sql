{#- Wall-clock minutes between two UTC timestamps, to the second (a fraction of a minute kept). -#}
{% macro elapsed_minutes(start_column, end_column) -%}
    ({{ dbt.datediff(start_column, end_column, 'second') }} / 60.0)
{%- endmacro %}
