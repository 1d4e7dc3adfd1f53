{#- Quarantine files appear with the first rejected record; until then an empty relation
    typed as _ingestion__sources.yml declares stands in (source_or_empty). -#}
with

quarantine as (

    select * from {{ source_or_empty(
        'ingestion', 'quarantine', env_var('SERVOPS_LAKE') ~ '/quarantine/*/*.parquet'
    ) }}

),

final as (

    select
        cast(batch_id as varchar) as batch_id,
        cast(connector as varchar) as connector,
        cast(source_file as varchar) as source_file,
        cast(line_number as bigint) as line_number,
        cast(event_id as varchar) as event_id,
        cast(event_type as varchar) as event_type,
        cast(reason as varchar) as reason,
        cast(field as varchar) as field_name,
        cast(detail as varchar) as detail,
        cast(raw_record as varchar) as raw_record,
        {{ utc_timestamp('quarantined_at') }} as quarantined_at
    from quarantine

)

select * from final
