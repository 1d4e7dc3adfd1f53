with

onboarding_events as (

    select * from {{ lake_source('onboarding') }}

),

first_deliveries as (

    {{ first_deliveries('onboarding_events') }}

),

final as (

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
        cast(delivery_count as integer) as delivery_count
    from first_deliveries

)

select * from final
