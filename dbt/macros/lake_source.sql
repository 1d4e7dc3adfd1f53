{#- The lake stream `stream` as a relation for a staging model. A stream with no files yet
    (read_parquet fails on a glob that matches nothing) is replaced by an empty relation typed
    from the source's declared columns (the event contract), so a lake holding only some
    streams still builds every model: their marts are simply empty. source() is always called
    so the lineage (and Dagster's asset graph) keeps the dependency. -#}
{% macro lake_source(stream) -%}
    {%- set relation = source('lake', stream ~ '_events') -%}
    {{ return(adapter.dispatch('lake_source', 'servops')(stream, relation)) }}
{%- endmacro %}

{% macro default__lake_source(stream, relation) -%}
    {%- if execute -%}
        {%- set pattern = env_var('SERVOPS_LAKE') ~ '/raw/' ~ stream ~ '/*/*.parquet' -%}
        {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
        {%- if found.columns[0].values()[0] == 0 -%}
            {{ return(lake_empty_relation(stream)) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{#- Spark reads the lake as catalogued tables; an empty table is fine there. -#}
{% macro spark__lake_source(stream, relation) -%}
    {{ return(relation) }}
{%- endmacro %}

{#- Zero rows with the stream's contract columns, typed as declared in _lake__sources.yml. -#}
{% macro lake_empty_relation(stream) -%}
    {%- set node = graph.sources['source.servops.lake.' ~ stream ~ '_events'] -%}
    {%- set columns = [] -%}
    {%- for column in node.columns.values() -%}
        {%- do columns.append('cast(null as ' ~ column.data_type ~ ') as ' ~ column.name) -%}
    {%- endfor -%}
    {{ return('(select ' ~ columns | join(', ') ~ ' where 1 = 0) as empty_' ~ stream ~ '_events') }}
{%- endmacro %}
