{#- Per connector and day (UTC date the batch finished): batches, records received, accepted,
    quarantined and skipped as repeats, from the ingestion log. -#}
with

ingestion_log as (

    select * from {{ ref('stg_ingestion__log') }}

),

final as (

    select
        cast(finished_at as date) as ingestion_date,
        connector,
        cast(count(*) as bigint) as batch_count,
        cast(sum(received_count) as bigint) as received_count,
        cast(sum(accepted_count) as bigint) as accepted_count,
        cast(sum(quarantined_count) as bigint) as quarantined_count,
        cast(sum(duplicates_skipped_count) as bigint) as duplicates_skipped_count,
        cast(sum(written_count) as bigint) as written_count
    from ingestion_log
    group by cast(finished_at as date), connector

)

select * from final
