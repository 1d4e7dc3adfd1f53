with

kb_events as (

    select * from {{ lake_source('kb') }}

),

first_deliveries as (

    {{ first_deliveries('kb_events') }}

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
        cast(session_id as varchar) as session_id,
        cast(article_id as varchar) as article_id,
        cast(search_query as varchar) as search_query,
        cast(result_count as integer) as result_count,
        cast(is_helpful as boolean) as is_helpful,
        cast(delivery_count as integer) as delivery_count
    from first_deliveries

)

select * from final
