{#- Data tests on new rows only, in incremental runs. A test whose `where` config is
    `received_since:<column>` (set in dbt_project.yml for the lake staging tests, and on the
    large facts' tests in their YAML) checks, when the var `data_tests_received_since` (a UTC
    timestamp) is given, only the rows with <column> at or after it: the rows an incremental
    run wrote. Without the var (the daily and every full build) it checks every row. The var
    is the caller's choice (the sensor/hourly build passes its watermark); a duplicate of an
    old row by a new one is still caught by the full builds. This is dbt's own `where`
    mechanism (get_where_subquery), with the placeholder resolved here. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and where.startswith('received_since:') -%}
        {%- set since = var('data_tests_received_since', none) -%}
        {%- if not since -%}
            {{ return(relation) }}
        {%- endif -%}
        {%- set where = where.split(':', 1)[1] | trim ~ " >= cast('" ~ since ~ "' as timestamp)" -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) as dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
