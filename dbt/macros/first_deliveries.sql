{#- The deliveries in `deliveries` (a CTE of one lake stream, typed, with source_file) with
    each event_id kept once: the first received delivery wins (ties broken by occurred_at,
    then file name), because the first delivery is the one the source acknowledged and later
    ones are retries (docs/events.md). delivery_count keeps how often the event arrived and
    duplicate_source_files the other deliveries' files (so an incremental build knows they
    were read). In an incremental build the rows already loaded for the same event_ids take
    part, so a late first delivery still wins and redeliveries add up: the table equals a
    full refresh. Only the few event_ids delivered more than once are ranked; the rest pass
    through a hash aggregate instead of a sort of the whole stream. -#}
{% macro first_deliveries(deliveries) -%}
    with

    all_deliveries as (

        select
            {{ deliveries }}.*,
            cast(1 as integer) as delivery_count,
            cast([] as varchar []) as duplicate_source_files
        from {{ deliveries }}
        {%- if is_incremental() %}
        union all by name
        select * from {{ this }}
        where event_id in (select event_id from {{ deliveries }})
        {%- endif %}

    ),

    repeated_event_ids as (

        select
            event_id,
            true as is_repeated
        from all_deliveries
        group by event_id
        having count(*) > 1

    ),

    flagged as (

        select
            all_deliveries.*,
            coalesce(repeated_event_ids.is_repeated, false) as is_repeated
        from all_deliveries
        left join repeated_event_ids
            on all_deliveries.event_id = repeated_event_ids.event_id

    ),

    ranked as (

        select
            * exclude (is_repeated),
            row_number() over (
                partition by event_id
                order by received_at asc, occurred_at asc, source_file asc
            ) as delivery_rank
        from flagged
        where is_repeated

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

    select * exclude (is_repeated)
    from flagged
    where not is_repeated

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
