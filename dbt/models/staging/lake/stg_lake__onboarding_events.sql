with

onboarding_deliveries as (

    select * from {{ lake_deliveries('onboarding') }}

),

typed as (

    select
        cast(event_id as varchar) as event_id,
        cast(event_type as varchar) as event_type,
        cast(schema_version as integer) as schema_version,
        {{ utc_timestamp('occurred_at') }} as occurred_at,
        {{ utc_timestamp('received_at') }} as received_at,
        cast(event_date as date) as event_date,
        cast(source as varchar) as source_system,
        cast(customer_id as varchar) as customer_id,
        cast(milestone as varchar) as milestone,
        cast(milestone_order as smallint) as milestone_order,
        source_file
    from onboarding_deliveries

),

first_deliveries as (

    {{ first_deliveries('typed') }}

),

final as (

    select
        event_id,
        event_type,
        schema_version,
        occurred_at,
        received_at,
        event_date,
        source_system,
        customer_id,
        milestone,
        milestone_order,
        source_file,
        delivery_count,
        duplicate_source_files
    from first_deliveries

)

select * from final
