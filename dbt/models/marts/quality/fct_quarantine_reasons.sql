{#- Quarantined records per day, connector, reason and field: why input was refused. -#}
with

quarantine as (

    select * from {{ ref('stg_ingestion__quarantine') }}

),

final as (

    select
        cast(quarantined_at as date) as quarantined_date,
        connector,
        reason,
        coalesce(field_name, '-') as field_name,
        cast(count(*) as bigint) as quarantined_count
    from quarantine
    group by cast(quarantined_at as date), connector, reason, coalesce(field_name, '-')

)

select * from final
