{#- The log's files appear with the first ingestion; until then read_parquet would fail on
    the empty glob, so an empty relation with the same typed columns stands in for the source
    (DuckDB's glob() lists no file without failing). source() is always called for lineage. -#}
{%- set log_source = source('ingestion', 'log') -%}
{%- set has_files = true -%}
{%- if execute -%}
    {%- set pattern = env_var('SERVOPS_LAKE') ~ '/ingestion_log/*.parquet' -%}
    {%- set listed = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
    {%- set has_files = listed.columns[0].values()[0] > 0 -%}
{%- endif -%}
{%- set empty_log -%}
    (select
        cast(null as varchar) as batch_id, cast(null as varchar) as connector,
        cast(null as varchar) as source_file, cast(null as varchar) as content_sha256,
        cast(null as bigint) as received_count, cast(null as bigint) as accepted_count,
        cast(null as bigint) as quarantined_count, cast(null as bigint) as duplicates_skipped_count,
        cast(null as bigint) as written_count, cast(null as timestamptz) as started_at,
        cast(null as timestamptz) as finished_at
    where false) as empty_ingestion_log
{%- endset -%}

with

ingestion_log as (

    select * from {{ log_source if has_files else empty_log }}

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
