{#- The ingestion log's files appear with the first ingestion; until then an empty relation
    typed as _ingestion__sources.yml declares stands in (source_or_empty). -#}
with

ingestion_log as (

    select * from {{ source_or_empty(
        'ingestion', 'log', env_var('SERVOPS_LAKE') ~ '/ingestion_log/*.parquet'
    ) }}

),

final as (

    select
        cast(batch_id as varchar) as batch_id,
        cast(connector as varchar) as connector,
        cast(source_file as varchar) as source_file,
        cast(content_sha256 as varchar) as content_sha256,
        cast(received_count as bigint) as received_count,
        cast(accepted_count as bigint) as accepted_count,
        cast(quarantined_count as bigint) as quarantined_count,
        cast(duplicates_skipped_count as bigint) as duplicates_skipped_count,
        cast(written_count as bigint) as written_count,
        {{ utc_timestamp('started_at') }} as started_at,
        {{ utc_timestamp('finished_at') }} as finished_at
    from ingestion_log

)

select * from final
