with

customer_deliveries as (

    select * from {{ lake_deliveries('customer') }}

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
        cast(company_name as varchar) as company_name,
        cast(segment as varchar) as segment,
        cast(region as varchar) as region,
        cast(country as varchar) as country,
        cast(timezone as varchar) as timezone,
        cast(size_band as varchar) as size_band,
        cast(contact_id as varchar) as contact_id,
        cast(contact_name as varchar) as contact_name,
        cast(contact_email as varchar) as contact_email,
        source_file
    from customer_deliveries

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
        company_name,
        segment,
        region,
        country,
        timezone,
        size_band,
        contact_id,
        contact_name,
        contact_email,
        source_file,
        delivery_count,
        duplicate_source_files
    from first_deliveries

)

select * from final
