{#- Quarantine files appear with the first rejected record; until then an empty relation
    with the same typed columns stands in for the source (see stg_ingestion__log). -#}
{%- set quarantine_source = source('ingestion', 'quarantine') -%}
{%- set has_files = true -%}
{%- if execute -%}
    {%- set pattern = env_var('SERVOPS_LAKE') ~ '/quarantine/*/*.parquet' -%}
    {%- set listed = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
    {%- set has_files = listed.columns[0].values()[0] > 0 -%}
{%- endif -%}
{%- set empty_quarantine -%}
    (select
        cast(null as varchar) as batch_id, cast(null as varchar) as connector,
        cast(null as varchar) as source_file, cast(null as bigint) as line_number,
        cast(null as varchar) as event_id, cast(null as varchar) as event_type,
        cast(null as varchar) as reason, cast(null as varchar) as field,
        cast(null as varchar) as detail, cast(null as varchar) as raw_record,
        cast(null as timestamptz) as quarantined_at
    where false) as empty_quarantine
{%- endset -%}

with

quarantine as (

    select * from {{ quarantine_source if has_files else empty_quarantine }}

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
