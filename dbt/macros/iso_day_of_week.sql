{#- The ISO day of the week of a date: 1 for Monday to 7 for Sunday. Each engine names the
    field its own way (DuckDB `isodow`, Spark `dayofweek_iso`), so it lives here. -#}
{% macro iso_day_of_week(date_column) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'servops')(date_column)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_column) -%}
    cast(extract(isodow from {{ date_column }}) as integer)
{%- endmacro %}

{% macro spark__iso_day_of_week(date_column) -%}
    cast(extract(dayofweek_iso from {{ date_column }}) as integer)
{%- endmacro %}
