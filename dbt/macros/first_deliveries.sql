{#- The deliveries in `deliveries` (a CTE of one lake stream, typed, with source_file) with
    each event_id kept once: the first received delivery wins (ties broken by occurred_at,
    then file name), because the first delivery is the one the source acknowledged and later
    ones are retries (docs/events.md). delivery_count keeps how often the event arrived and
    duplicate_source_files the other deliveries' files (so an incremental build knows they
    were read). In an incremental build the rows already loaded for the same event_ids take
    part, so a late first delivery still wins and redeliveries add up: the table equals a
    full refresh.
    Cheap on purpose (issue #5: this was the build's slowest step): the event_ids delivered
    more than once are found from the event_id column alone; every other delivery passes
    straight through an anti-join against that small set, and only the repeated ones are
    ranked. `deliveries` should be declared with cte_not_materialized() so each of these reads
    is a streaming scan of the lake, not a copy of the whole stream held in memory. -#}
{% macro first_deliveries(deliveries) -%}
    with

    delivered_event_ids as (

        select event_id from {{ deliveries }}
        {%- if is_incremental() %}
        union all
        select loaded.event_id from {{ this }} as loaded
        where loaded.event_id in (select event_id from {{ deliveries }})
        {%- endif %}

    ),

    repeated_event_ids as (

        select event_id
        from delivered_event_ids
        group by event_id
        having count(*) > 1

    ),

    single_deliveries as (

        select
            {{ deliveries }}.*,
            cast(1 as integer) as delivery_count,
            cast([] as varchar []) as duplicate_source_files
        from {{ deliveries }}
        left join repeated_event_ids
            on {{ deliveries }}.event_id = repeated_event_ids.event_id
        where repeated_event_ids.event_id is null

    ),

    repeated_deliveries as (

        select
            {{ deliveries }}.*,
            cast(1 as integer) as delivery_count,
            cast([] as varchar []) as duplicate_source_files
        from {{ deliveries }}
        inner join repeated_event_ids
            on {{ deliveries }}.event_id = repeated_event_ids.event_id
        {%- if is_incremental() %}
        union all by name
        select loaded.* from {{ this }} as loaded
        inner join repeated_event_ids
            on loaded.event_id = repeated_event_ids.event_id
        {%- endif %}

    ),

    ranked as (

        select
            *,
            row_number() over (
                partition by event_id
                order by received_at asc, occurred_at asc, source_file asc
            ) as delivery_rank
        from repeated_deliveries

    ),

    merged as (

        select
            event_id,
            sum(delivery_count) as delivery_count,
            list_sort(flatten(list(
                case
                    when delivery_rank > 1 then list_prepend(source_file, duplicate_source_files)
                    else duplicate_source_files
                end
            ))) as duplicate_source_files
        from ranked
        group by event_id

    )

    select * from single_deliveries

    union all by name

    select
        ranked.* exclude (delivery_rank, delivery_count, duplicate_source_files),
        cast(merged.delivery_count as integer) as delivery_count,
        merged.duplicate_source_files
    from ranked
    inner join merged
        on ranked.event_id = merged.event_id
    where ranked.delivery_rank = 1
{%- endmacro %}

{#- Written between a CTE's `as` and its body: asks the engine to inline the CTE at each use
    instead of materialising it. DuckDB materialises a CTE read more than once, which for a
    lake stream means holding the whole stream in memory to read it three times; inlined,
    each read is a streaming scan that reads only the columns it needs. -#}
{% macro cte_not_materialized() -%}
    {{ return(adapter.dispatch('cte_not_materialized', 'servops')()) }}
{%- endmacro %}

{% macro default__cte_not_materialized() -%}
    not materialized
{%- endmacro %}

{#- Spark inlines CTEs already and has no such keyword. -#}
{% macro spark__cte_not_materialized() -%}
{%- endmacro %}
