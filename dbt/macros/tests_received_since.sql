{#- Data tests on new rows only, in incremental runs. A test whose `where` config is
    `received_since:<column>` (set in dbt_project.yml for the lake staging tests, and on the
    large facts' tests in their YAML) checks, when the environment variable
    SERVOPS_TESTS_RECEIVED_SINCE (a UTC timestamp) is set, only the rows with <column> at or
    after it: the rows an incremental run wrote. Unset or empty (the daily and every full
    build) it checks every row. It is the caller's choice (the sensor/hourly build passes its
    watermark, the benchmark the new day's first receipt); a duplicate of an old row by a new
    one is still caught by the full builds. An environment variable, not a dbt var: dbt
    re-parses the whole project (~5 s) whenever --vars differ from the last run's, while an
    env var read only here, when a test is compiled (`execute`), never enters the parse. This
    is dbt's own `where` mechanism (get_where_subquery), with the placeholder resolved here. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and where.startswith('received_since:') -%}
        {%- set since = env_var('SERVOPS_TESTS_RECEIVED_SINCE', '') if execute else '' -%}
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
