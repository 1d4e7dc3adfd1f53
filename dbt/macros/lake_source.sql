{#- The lake stream `stream` as a relation for a staging model. A stream with no files yet
    (read_parquet fails on a glob that matches nothing) is replaced by an empty relation typed
    from the source's declared columns (the event contract), so a lake holding only some
    streams still builds every model: their marts are simply empty. source() is always called
    so the lineage (and Dagster's asset graph) keeps the dependency. -#}
{% macro lake_source(stream) -%}
    {{ return(source_or_empty(
        'lake', stream ~ '_events', env_var('SERVOPS_LAKE') ~ '/raw/' ~ stream ~ '/*/*.parquet'
    )) }}
{%- endmacro %}

{#- The source `source_name`.`table_name`, or, while no file matches `pattern` (its glob:
    read_parquet fails on a glob that matches nothing), an empty relation typed from the
    source's declared columns. source() is always called, for the lineage. -#}
{% macro source_or_empty(source_name, table_name, pattern) -%}
    {%- set relation = source(source_name, table_name) -%}
    {{ return(adapter.dispatch('source_or_empty', 'servops')(source_name, table_name, pattern, relation)) }}
{%- endmacro %}

{% macro default__source_or_empty(source_name, table_name, pattern, relation) -%}
    {%- if execute and not lake_files(pattern) -%}
        {{ return(empty_source_relation(source_name, table_name)) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{#- Spark reads the lake as catalogued tables; an empty table is fine there. -#}
{% macro spark__source_or_empty(source_name, table_name, pattern, relation) -%}
    {{ return(relation) }}
{%- endmacro %}

{#- The files matching `pattern` (a glob), in name order, skipping those `loaded_files` (a
    query of lake-relative paths) names; [] when none. Run at compile time, so the model reads
    a fixed list: a file landing during the build waits for the next one. -#}
{% macro lake_files(pattern, loaded_files=none) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set listing -%}
        select file from glob('{{ pattern }}')
        {%- if loaded_files %}
        where file not in (
            select '{{ env_var("SERVOPS_LAKE") }}/' || loaded_file from ({{ loaded_files }}) as loaded
        )
        {%- endif %}
        order by file
    {%- endset -%}
    {{ return(run_query(listing).columns[0].values() | list) }}
{%- endmacro %}

{#- The deliveries in lake stream `stream` not loaded into the staging model being built,
    each with source_file (its file, relative to the lake). A full build reads every file; an
    incremental one only the files no row of the model names yet (as the winning delivery's
    source_file or among duplicate_source_files), so a daily build reads a day, not the lake.
    The as_of var (time travel) applies here. -#}
{% macro lake_deliveries(stream) -%}
    {%- set relation = source('lake', stream ~ '_events') -%}
    {{ return(adapter.dispatch('lake_deliveries', 'servops')(stream, relation)) }}
{%- endmacro %}

{% macro default__lake_deliveries(stream, relation) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set lake = env_var('SERVOPS_LAKE') -%}
    {%- set loaded = lake_loaded_files(this) if is_incremental() else none -%}
    {%- set files = lake_files(lake ~ '/raw/' ~ stream ~ '/*/*.parquet', loaded) -%}
    {%- if not files -%}
        {%- set empty -%}
            (select *, cast(null as varchar) as source_file from {{ lake_empty_relation(stream) }})
        {%- endset -%}
        {{ return(empty ~ ' as ' ~ stream ~ '_deliveries') }}
    {%- endif -%}
    {%- set deliveries -%}
        (
            select
                * exclude (filename),
                substr(filename, {{ lake | length + 2 }}) as source_file
            from read_parquet(
                [{%- for file in files %}'{{ file }}'{{ ', ' if not loop.last }}{% endfor -%}],
                hive_partitioning = true, union_by_name = true, filename = true
            )
            where {{ as_of_filter('occurred_at') }}
        ) as {{ stream }}_deliveries
    {%- endset -%}
    {{ return(deliveries) }}
{%- endmacro %}

{#- Spark reads the catalogued table whole (no file listing yet). -#}
{% macro spark__lake_deliveries(stream, relation) -%}
    {{ return(
        '(select *, input_file_name() as source_file from ' ~ relation ~ ' where '
        ~ as_of_filter('occurred_at') ~ ') as ' ~ stream ~ '_deliveries'
    ) }}
{%- endmacro %}

{#- The lake-relative paths of every file whose rows `model` (a staging table) holds. -#}
{% macro lake_loaded_files(model) -%}
    select source_file as loaded_file from {{ model }}
    union
    select unnest(duplicate_source_files) as loaded_file from {{ model }}
    where delivery_count > 1
{%- endmacro %}

{#- Zero rows with the stream's contract columns, typed as declared in _lake__sources.yml. -#}
{% macro lake_empty_relation(stream) -%}
    {{ return(empty_source_relation('lake', stream ~ '_events')) }}
{%- endmacro %}

{#- Zero rows with a source's declared columns, typed as its YAML declares them. -#}
{% macro empty_source_relation(source_name, table_name) -%}
    {%- set node = graph.sources['source.servops.' ~ source_name ~ '.' ~ table_name] -%}
    {%- set columns = [] -%}
    {%- for column in node.columns.values() -%}
        {%- do columns.append('cast(null as ' ~ column.data_type ~ ') as ' ~ column.name) -%}
    {%- endfor -%}
    {{ return(
        '(select ' ~ columns | join(', ') ~ ' where 1 = 0) as empty_'
        ~ source_name ~ '_' ~ table_name
    ) }}
{%- endmacro %}
